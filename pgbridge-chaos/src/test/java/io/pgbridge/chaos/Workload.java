package io.pgbridge.chaos;

import io.pgbridge.sql.PgBridgeSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * What the producer writes and how the bridge is told to read it: numbered rows of tables routed as WAL changes, or
 * {@code pgbridge.send} events (streaming or polling outbox), or NOTIFY; one route per table or channel, {@code r0},
 * {@code r1}, ...
 */
final class Workload {
    enum Source {
        /** A table per route, streamed from a replication slot; the row id under {@code new.id} of the change event. */
        WAL,
        /** {@code send('rN', {"id": ...})} streamed from the outbox's slot; the id in the payload. */
        STREAMING_OUTBOX,
        /** {@code send(...)} claimed by polling ({@code FOR UPDATE SKIP LOCKED}); several bridges may share it. */
        POLLING_OUTBOX,
        /** {@code pg_notify('rN', '{"id": ...}')}: a hint channel, lost while nobody listens. */
        NOTIFY
    }

    private final Source source;
    private final String schema;
    private final int routes;

    Workload(Source source, String schema, int routes) {
        this.source = source;
        this.schema = schema;
        this.routes = routes;
    }

    Source source() {
        return source;
    }

    String schema() {
        return schema;
    }

    int routes() {
        return routes;
    }

    static String route(int route) {
        return "r" + route;
    }

    /** The replication slot the bridge holds, or {@code null} for the sources that have none. */
    String slot() {
        return switch (source) {
            case WAL -> schema;
            case STREAMING_OUTBOX -> schema + "_outbox_1";
            case POLLING_OUTBOX, NOTIFY -> null;
        };
    }

    void create(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            if (source == Source.STREAMING_OUTBOX || source == Source.POLLING_OUTBOX) {
                PGSimpleDataSource ds = new PGSimpleDataSource();
                ds.setURL("jdbc:postgresql://127.0.0.1:" + ChaosServices.PG_PORT + "/postgres");
                ds.setUser("postgres");
                PgBridgeSchema.migrate(ds, schema);
            } else {
                st.execute("CREATE SCHEMA " + schema);
            }
            if (source == Source.WAL) {
                for (int r = 0; r < routes; r++) {
                    st.execute("CREATE TABLE " + schema + "." + route(r) + " (id bigint PRIMARY KEY, payload text)");
                }
            }
        }
        Producer.createLedger(c, schema);
    }

    /** Rows {@code first..last} of {@code route}, in the caller's transaction. */
    void insert(Connection c, int route, long first, long last) throws SQLException {
        String sql =
                switch (source) {
                    case WAL ->
                        "INSERT INTO " + schema + "." + route(route)
                                + " (id, payload) SELECT i, repeat('x', 100) FROM generate_series(?::bigint, ?) i";
                    case STREAMING_OUTBOX, POLLING_OUTBOX ->
                        "SELECT count(" + schema + ".send('" + route(route)
                                + "', jsonb_build_object('id', i, 'pad', repeat('x', 100))))"
                                + " FROM generate_series(?::bigint, ?) i";
                    case NOTIFY ->
                        "SELECT count(pg_notify('" + route(route)
                                + "', json_build_object('id', i)::text)) FROM generate_series(?::bigint, ?) i";
                };
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, first);
            ps.setLong(2, last);
            ps.execute();
        }
    }

    /**
     * The {@code PGBRIDGE_*} variables that make a bridge read this workload, given where PostgreSQL and the sink are
     * and each route's target ({@code exchange:name}, {@code topic:name}, ...).
     */
    Map<String, String> bridgeEnvironment(IntFunction<String> target) {
        Map<String, String> env = new HashMap<>();
        StringBuilder channels = new StringBuilder();
        for (int r = 0; r < routes; r++) {
            if (r > 0) {
                channels.append(", ");
            }
            channels.append(source == Source.WAL ? schema + "." + route(r) : route(r))
                    .append("->")
                    .append(target.apply(r));
        }
        env.put("PGBRIDGE_BRIDGE_CHANNELS", channels.toString());
        switch (source) {
            case WAL -> env.put("PGBRIDGE_WAL_SLOT", schema);
            case STREAMING_OUTBOX, POLLING_OUTBOX -> {
                env.put("PGBRIDGE_SOURCES", "outbox");
                env.put("PGBRIDGE_OUTBOX_SCHEMA", schema);
                env.put("PGBRIDGE_OUTBOX_MODE", source == Source.STREAMING_OUTBOX ? "streaming" : "polling");
                env.put("PGBRIDGE_OUTBOX_REPLAY_AFTER_MS", "3000");
                env.put("PGBRIDGE_OUTBOX_POLL_INTERVAL_MS", "200");
                env.put("PGBRIDGE_OUTBOX_RECONNECT_MAX_BACKOFF_MS", "1000");
            }
            case NOTIFY -> {
                env.put("PGBRIDGE_SOURCES", "notify");
                // a frozen LISTEN connection is found by a probe: at most 1 s of silence + 2 s without an answer
                env.put("PGBRIDGE_NOTIFY_PROBE_INTERVAL_MS", "1000");
                env.put("PGBRIDGE_NOTIFY_PROBE_TIMEOUT_MS", "2000");
                env.put("PGBRIDGE_NOTIFY_RECONNECT_MAX_BACKOFF_MS", "1000");
            }
        }
        return env;
    }

    /** Drops what {@link #create} made and the slot and publication of the bridge. */
    void drop(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            String slot = slot();
            if (slot != null) {
                st.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '"
                        + slot + "'");
                st.execute("DROP PUBLICATION IF EXISTS " + slot);
            }
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }
}
