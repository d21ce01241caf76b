package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.RouteState;
import io.pgbridge.RouteStats;
import io.pgbridge.SourceState;
import io.pgbridge.SourceStats;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The outbox in streaming mode (logical replication): the shared contract. Drained means the slot confirmed every
 * committed change; the slot and the publication are dropped afterwards.
 */
class StreamingOutboxIT extends OutboxBridgeContract {

    @Override
    Map<String, String> modeSettings() {
        return Map.of("outbox.mode", "streaming", "wal.status-interval-ms", "200", "wal.heartbeat-interval-ms", "500");
    }

    /** The slot confirms (flushes) a WAL position reached after every event of the test was committed. */
    @Override
    void awaitOutboxDrained() throws Exception {
        String reached = text("select pg_current_wal_lsn()::text");
        await().atMost(WAIT)
                .until(() -> count("select count(*) from pg_replication_slots where slot_name = '" + db.slot()
                                + "' and confirmed_flush_lsn >= '" + reached + "'::pg_lsn")
                        == 1);
    }

    @Override
    void dropModeObjects() throws Exception {
        db.dropStream();
    }

    private String text(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void eventsCommittedBeforeTheSlotExistedAreReadFromTheTableOnce() throws Exception {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            for (int i = 1; i <= 3; i++) {
                send(st, "events", "{\"before\": " + i + "}");
            }
        }
        InMemorySink first = new InMemorySink();
        PgBridge bridge = start(first);
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "events", "{\"after\": 1}");
        }
        assertThat(payloads(first.await(4, WAIT)))
                .as("the backlog from the table, then the stream")
                .containsExactly("{\"before\": 1}", "{\"before\": 2}", "{\"before\": 3}", "{\"after\": 1}");
        await().atMost(WAIT)
                .until(() -> count("select count(*) from " + db.schema + ".checkpoints where event_id is null") == 1);
        bridge.close();

        InMemorySink second = new InMemorySink();
        start(second);
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "events", "{\"after\": 2}");
        }
        assertThat(payloads(second.await(1, WAIT))).as("after a restart").containsExactly("{\"after\": 2}");
    }

    private static List<String> payloads(List<Event> events) {
        List<String> out = new ArrayList<>();
        for (Event e : events) {
            out.add(e.payloadAsString());
        }
        return out;
    }

    /**
     * A row this mode cannot turn into an event (a text content type whose payload is not a JSON string, which the
     * table of an older schema version accepted) goes to the dead-letter table with the reason; the stream neither
     * stops nor reconnects, and the events after it arrive.
     */
    @Test
    void anUndecodableRowGoesToTheDeadLetterTableAndTheStreamGoesOn() throws Exception {
        InMemorySink sink = new InMemorySink();
        PgBridge bridge = start(sink);
        sendAroundAnUndecodableRow();

        assertThat(payloads(sink.await(2, WAIT))).containsExactly("{\"good\": 1}", "{\"good\": 2}");
        await().atMost(WAIT)
                .until(() -> count("select count(*) from " + db.schema + ".dead_letters where reason like"
                                + " '%could not decode%not a JSON string%'")
                        == 1);
        SourceStats outbox = bridge.stats().sources().get(0);
        assertThat(outbox.state()).as("reading, not reconnecting").isEqualTo(SourceState.READING);
        assertThat(bridge.stats().routes().get(0).state()).isEqualTo(RouteState.DELIVERING);
    }

    /** Without a dead-letter destination the same row halts its route, visibly; the source still reads. */
    @Test
    void anUndecodableRowHaltsItsRouteWithoutADeadLetterDestination() throws Exception {
        InMemorySink sink = new InMemorySink();
        PgBridge bridge = start(sink, Map.of("outbox.dead-letter-table", "false"));
        sendAroundAnUndecodableRow();

        assertThat(payloads(sink.await(1, WAIT))).containsExactly("{\"good\": 1}");
        await().atMost(WAIT).untilAsserted(() -> {
            RouteStats events = bridge.stats().routes().get(0);
            assertThat(events.state()).isEqualTo(RouteState.HALTED);
            assertThat(events.lastError()).contains("could not decode").contains("not a JSON string");
        });
        assertThat(sink.payloads())
                .as("nothing behind the undecodable row moved")
                .hasSize(1);
        assertThat(bridge.stats().sources().get(0).state()).isEqualTo(SourceState.READING);
    }

    @Test
    void startReturnsWhileTheSinkIsDownAndTheBacklogExceedsTheBuffer() throws Exception {
        int backlog = 300;
        db.execute("select " + db.schema + ".send('events', jsonb_build_object('before', g)) from generate_series(1, "
                + backlog + ") g");
        InMemorySink sink = new InMemorySink();
        sink.setAvailable(false);
        java.util.concurrent.CompletableFuture<PgBridge> started = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> start(sink, Map.of("buffer.max-events", "50")));
        started.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "events", "{\"after\": 1}");
        }
        sink.setAvailable(true);
        List<String> payloads = payloads(sink.await(backlog + 1, WAIT));
        awaitOutboxDrained();
        assertThat(payloads).as("every event once").hasSize(backlog + 1).doesNotHaveDuplicates();
        assertThat(payloads.get(backlog)).as("the stream after the backlog").isEqualTo("{\"after\": 1}");
        await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".backlog") == 0);
    }

    private void sendAroundAnUndecodableRow() throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            // the constraints of later schema versions refuse such a row: drop them, as on an older schema
            st.execute("do $$ declare c record; begin for c in select conname from pg_constraint where conrelid = '"
                    + db.schema + ".events'::regclass and contype = 'c' and pg_get_constraintdef(oid) like"
                    + " '%content_type%' loop execute format('alter table " + db.schema
                    + ".events drop constraint %I', c.conname); end loop; end $$");
            send(st, "events", "{\"good\": 1}");
            st.execute("insert into " + db.schema + ".events (channel, payload, content_type) values ('events',"
                    + " '{\"not\": \"a string\"}', 'text/plain')");
            send(st, "events", "{\"good\": 2}");
        }
    }
}
