package io.pgbridge.sinktck;

import static org.awaitility.Awaitility.await;

import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.replication.LogSequenceNumber;

/**
 * A WAL route with a sink's broker stopped in the middle: the part every sink's WAL outage test shares. It creates a
 * table {@code <name>.orders (id int PRIMARY KEY, state text)}, inserts rows 1–100 and waits for them, stops the
 * broker, inserts rows 101–200 and checks for 3 s that the slot's confirmed flush LSN does not pass the WAL position
 * of the outage, starts the broker again and inserts rows 201–{@link #ROWS}. The test then changes what it wants,
 * waits with {@link #awaitDelivered} and reads what its broker holds. {@link #close()} drops the slot, the
 * publication and the schema.
 */
public final class WalOutage implements AutoCloseable {
    /** Rows inserted. */
    public static final int ROWS = 300;

    private final String name;
    private final Connection pg;
    private long walAtOutage;

    private WalOutage(String name, Connection pg) {
        this.name = name;
        this.pg = pg;
    }

    /** A schema named {@code prefix} and a random suffix, with the table, on the test PostgreSQL. */
    public static WalOutage install(String prefix) throws SQLException {
        WalOutage outage = new WalOutage(
                prefix + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36),
                TestServices.postgresConnection());
        outage.exec(
                "CREATE SCHEMA " + outage.name, "CREATE TABLE " + outage.table() + " (id int PRIMARY KEY, state text)");
        return outage;
    }

    /** The schema's name, also the slot's and publication's, and a unique name for the test's topic or stream. */
    public String name() {
        return name;
    }

    /** The table, {@code <name>.orders}: the route's channel. */
    public String table() {
        return name + ".orders";
    }

    /**
     * A bridge builder for a route from the table to {@code target}: PostgreSQL, the upstream, slot {@link #name()},
     * status updates every 200 ms, short retry backoffs; the test adds its sink's settings and builds it.
     */
    public PgBridge.Builder builder(String upstream, String target) {
        return PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(upstream)
                .routes(table() + "->" + target)
                .setting("wal.slot", name)
                .setting("wal.status-interval-ms", "200")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
    }

    /** Inserts every row, with {@code broker} stopped in the middle, as described above. */
    public void insertThroughAnOutage(PgBridge bridge, TestServices.Service broker) throws SQLException {
        insert(1, 100);
        await().atMost(Duration.ofSeconds(30)).until(() -> bridge.stats().delivered() == 100);
        try {
            TestServices.stop(broker);
            walAtOutage = currentWal();
            insert(101, 200);
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.stats().retries() > 0);
            await().during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> confirmedFlush() <= walAtOutage);
        } finally {
            TestServices.start(broker);
        }
        insert(201, ROWS);
    }

    /** Waits until {@code bridge} delivered {@code events} and the slot moved past the outage. */
    public void awaitDelivered(PgBridge bridge, int events) {
        await().atMost(Duration.ofSeconds(90)).until(() -> bridge.stats().delivered() >= events);
        await().atMost(Duration.ofSeconds(30)).until(() -> confirmedFlush() > walAtOutage);
    }

    /** Runs each statement on the test database. */
    public void exec(String... statements) throws SQLException {
        try (Statement st = pg.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    @Override
    public void close() throws SQLException {
        try (pg;
                PreparedStatement ps = pg.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM "
                        + "pg_replication_slots WHERE slot_name = ? AND NOT active")) {
            ps.setString(1, name);
            ps.execute();
            exec("DROP PUBLICATION IF EXISTS " + name, "DROP SCHEMA " + name + " CASCADE");
        }
    }

    private void insert(int from, int to) throws SQLException {
        for (int id = from; id <= to; id += 10) {
            exec("INSERT INTO " + table() + " SELECT g, 'new' FROM generate_series(" + id + ", " + Math.min(to, id + 9)
                    + ") g");
        }
    }

    private long currentWal() throws SQLException {
        try (Statement st = pg.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
        }
    }

    private long confirmedFlush() throws SQLException {
        try (PreparedStatement ps =
                pg.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
            }
        }
    }
}
