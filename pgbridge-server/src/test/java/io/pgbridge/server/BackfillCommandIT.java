package io.pgbridge.server;

import static io.pgbridge.server.StartupErrorsIT.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pgbridge backfill} against a running bridge (in this JVM): the request goes into the requests table of a
 * pgbridge schema of the test's own, the bridge takes it, sends the table's rows as {@code r} events and writes its
 * progress back, which the command prints until done; the errors say what is wrong; a request survives a restart of the
 * bridge.
 */
class BackfillCommandIT {
    private static final int ROWS = 10_000;

    private final String name =
            "bf_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String pgbridge = name + "_pgbridge";
    private final String items = name + ".items";
    private final String requests = pgbridge + ".backfill_requests";
    private final Map<String, String> env =
            env("PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl(), "PGBRIDGE_WAL_BACKFILL_REQUESTS", requests);
    private Connection sql;

    @BeforeEach
    void setUp() throws SQLException {
        sql = TestServices.postgresConnection();
        exec(
                "CREATE SCHEMA " + name,
                "CREATE TABLE " + items + " (id bigint PRIMARY KEY, note text)",
                "INSERT INTO " + items + " SELECT g, md5(g::text) FROM generate_series(1, " + ROWS + ") g",
                "CREATE TABLE " + name + ".unrouted (id bigint PRIMARY KEY)",
                "CREATE TABLE " + name + ".nokey (v int)");
        PgBridgeSchema.migrate(TestServices.postgresDataSource(), pgbridge);
    }

    @AfterEach
    void tearDown() throws SQLException {
        try {
            exec(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name IN ('" + name
                            + "', '" + name + "_b')",
                    "DROP PUBLICATION IF EXISTS " + name,
                    "DROP PUBLICATION IF EXISTS " + name + "_b",
                    "DROP SCHEMA " + name + " CASCADE",
                    "DROP SCHEMA " + pgbridge + " CASCADE");
            exec("DELETE FROM pgbridge_snapshot WHERE starts_with(slot, '" + name + "/')");
        } catch (SQLException e) {
            // pgbridge_snapshot is created by the first backfill: without one there is nothing to delete
        } finally {
            sql.close();
        }
    }

    @Test
    void aRunningBridgeTakesTheRequestAndTheCommandFollowsItUntilDone() throws Exception {
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = bridge(sink)) {
            bridge.start();

            Runner.Result result = Runner.run(env, "backfill", items, "--where", "id <= 3000");

            assertThat(result.exit()).as("%s", result).isZero();
            assertThat(result.stdoutLines())
                    .as("%s", result)
                    .first()
                    .asString()
                    .startsWith("backfill request ")
                    .contains("(" + items + "): ");
            assertThat(result.stdoutLines().get(result.stdoutLines().size() - 1))
                    .as("%s", result)
                    .contains(": done (slot " + name + "), 3000 of 3000 rows (100.0%) in 2 chunks");
            await().atMost(Duration.ofSeconds(30)).until(() -> sink.events().size() >= 3000);
            Set<String> ids = new HashSet<>();
            for (String p : sink.payloads()) {
                assertThat(p).contains("\"op\":\"r\"");
                ids.add(p);
            }
            assertThat(ids).as("rows sent").hasSize(3000);
            try (Statement st = sql.createStatement();
                    ResultSet rs = st.executeQuery(
                            "SELECT state, taken_by, rows, total_rows, percent, filter FROM " + requests)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("done");
                assertThat(rs.getString(2)).isEqualTo(name);
                assertThat(rs.getLong(3)).isEqualTo(3000);
                assertThat(rs.getLong(4)).isEqualTo(3000);
                assertThat(rs.getDouble(5)).isEqualTo(100.0);
                assertThat(rs.getString(6)).isEqualTo("id <= 3000");
            }
        }
    }

    @Test
    void ofTwoBridgesThatRouteTheTableExactlyOneTakesTheRequest() throws Exception {
        InMemorySink a = new InMemorySink();
        InMemorySink b = new InMemorySink();
        try (PgBridge first = bridge(a, name);
                PgBridge second = bridge(b, name + "_b")) {
            first.start();
            second.start();

            Runner.Result result = Runner.run(env, "backfill", items);

            assertThat(result.exit()).as("%s", result).isZero();
            assertThat(first.stats().backfills().size()
                            + second.stats().backfills().size())
                    .as("backfills started by the two bridges")
                    .isEqualTo(1);
            PgBridge taker = first.stats().backfills().isEmpty() ? second : first;
            InMemorySink takerSink = taker == first ? a : b;
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> takerSink.events().size() >= ROWS);
            assertThat((taker == first ? b : a).events())
                    .as("the other bridge sent nothing")
                    .isEmpty();
        }
    }

    @Test
    void errorsSayWhatIsWrong() throws Exception {
        Runner.Result missing = Runner.run(env, "backfill", name + ".nothing");
        assertThat(missing.exit()).as("%s", missing).isEqualTo(3);
        assertThat(missing.stderr()).contains("table " + name + ".nothing does not exist");

        Runner.Result noKey = Runner.run(env, "backfill", name + ".nokey");
        assertThat(noKey.exit()).as("%s", noKey).isEqualTo(3);
        assertThat(noKey.stderr()).contains("table " + name + ".nokey has no primary key");

        Runner.Result notSchemaTable = Runner.run(env, "backfill", "items");
        assertThat(notSchemaTable.exit()).as("%s", notSchemaTable).isEqualTo(2);
        assertThat(notSchemaTable.stderr()).contains("must be schema.table");

        Runner.Result noRequestsTable = Runner.run(
                env(
                        "PGBRIDGE_POSTGRESQL_URI",
                        TestServices.postgresUrl(),
                        "PGBRIDGE_WAL_BACKFILL_REQUESTS",
                        name + ".backfill_requests"),
                "backfill",
                items);
        assertThat(noRequestsTable.exit()).as("%s", noRequestsTable).isEqualTo(3);
        assertThat(noRequestsTable.stderr())
                .contains("table " + name + ".backfill_requests does not exist: install the pgbridge schema");

        Runner.Result noBridge = Runner.run(env, "backfill", items, "--pickup-timeout", "2");
        assertThat(noBridge.exit()).as("%s", noBridge).isEqualTo(3);
        assertThat(noBridge.stderr()).contains("no running bridge took backfill request", "none saw it");
        assertThat(state(1)).as("the request expired").isEqualTo("expired");

        try (PgBridge bridge = bridge(new InMemorySink())) {
            bridge.start();
            Runner.Result unrouted = Runner.run(env, "backfill", name + ".unrouted", "--pickup-timeout", "3");
            assertThat(unrouted.exit()).as("%s", unrouted).isEqualTo(3);
            assertThat(unrouted.stderr())
                    .contains("the running bridges cannot take it: " + name + ": no route of this bridge takes table "
                            + name + ".unrouted");

            Runner.Result badFilter = Runner.run(env, "backfill", items, "--where", "no_such_column > 1");
            assertThat(badFilter.exit()).as("%s", badFilter).isEqualTo(1);
            assertThat(badFilter.stderr()).contains("failed", "no_such_column");

            Runner.Result wrongSlot = Runner.run(env, "backfill", items, "--slot", "another", "--pickup-timeout", "2");
            assertThat(wrongSlot.exit()).as("%s", wrongSlot).isEqualTo(3);
            assertThat(wrongSlot.stderr()).contains("none saw it", "on slot another");
        }
    }

    @Test
    void aPendingRequestCanBeCancelledAndNoWaitPrintsTheId() throws Exception {
        Runner.Result queued = Runner.run(env, "backfill", items, "--no-wait");
        assertThat(queued.exit()).as("%s", queued).isZero();
        assertThat(queued.stdoutLines()).containsExactly("1");

        Runner.Result cancelled = Runner.run(env, "backfill", "--cancel", "1");
        assertThat(cancelled.exit()).as("%s", cancelled).isZero();
        assertThat(cancelled.stdout()).contains("backfill request 1 (" + items + "): cancelled");
        assertThat(state(1)).isEqualTo("cancelled");

        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = bridge(sink)) {
            bridge.start();
            Runner.Result follow = Runner.run(env, "backfill", "--follow", "1");
            assertThat(follow.exit())
                    .as("a cancelled request, followed: %s", follow)
                    .isEqualTo(1);
            assertThat(bridge.stats().backfills())
                    .as("a cancelled request is not taken")
                    .isEmpty();
        }
    }

    @Test
    void aRequestTakenBeforeTheBridgeClosedIsTakenUpAgainAfterItStarts() throws Exception {
        InMemorySink before = new InMemorySink();
        SlowSink slow = new SlowSink(before);
        try (PgBridge bridge = bridge(slow)) {
            bridge.start();
            Runner.Result queued = Runner.run(env, "backfill", items, "--no-wait");
            assertThat(queued.exit()).as("%s", queued).isZero();
            await().atMost(Duration.ofSeconds(60)).until(() -> chunks(1) >= 1);
        }
        assertThat(state(1))
                .as("the bridge closed in the middle of the backfill")
                .isEqualTo("stopped");
        Runner.Result stopped = Runner.run(env, "backfill", "--follow", "1");
        assertThat(stopped.exit()).as("%s", stopped).isEqualTo(1);
        assertThat(stopped.stderr()).contains("it resumes the backfill from its last confirmed chunk");

        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = bridge(sink)) {
            bridge.start();
            Runner.Result resumed = Runner.run(env, "backfill", "--follow", "1");
            assertThat(resumed.exit()).as("%s", resumed).isZero();
            assertThat(resumed.stdoutLines().get(resumed.stdoutLines().size() - 1))
                    .contains(": done (slot " + name + "), " + ROWS + " of " + ROWS + " rows (100.0%)");
            await().atMost(Duration.ofSeconds(30)).until(() -> sink.events().size() >= ROWS);
        }
        Map<String, String> idByRow = new java.util.HashMap<>();
        for (Event e : before.events()) {
            idByRow.put(row(e), e.id());
        }
        assertThat(before.events()).as("rows sent before the bridge closed").isNotEmpty();
        long again = 0;
        for (Event e : sink.events()) {
            String earlier = idByRow.get(row(e));
            if (earlier != null) {
                again++;
                assertThat(e.id())
                        .as("event id of row %s sent again after the restart", row(e))
                        .isEqualTo(earlier);
            }
        }
        assertThat(again).as("rows sent again after the restart").isPositive();
    }

    /** The primary key of an {@code r} event's row, as its JSON. */
    private static String row(Event e) {
        String p = e.payloadAsString();
        int key = p.indexOf("\"key\":");
        return p.substring(key, p.indexOf('}', key) + 1);
    }

    private PgBridge bridge(Sink sink) {
        return bridge(sink, name);
    }

    private PgBridge bridge(Sink sink, String slot) {
        return PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes(items + "->queue:items")
                .sink(sink)
                .setting("wal.slot", slot)
                .setting("wal.backfill-requests", requests)
                .setting("wal.status-interval-ms", "200")
                .setting("buffer.max-events", "100")
                .shutdownTimeout(Duration.ofSeconds(20))
                .build();
    }

    private String state(long id) throws SQLException {
        try (PreparedStatement ps = sql.prepareStatement("SELECT state FROM " + requests + " WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private long chunks(long id) throws SQLException {
        try (PreparedStatement ps = sql.prepareStatement("SELECT chunks FROM " + requests + " WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    private void exec(String... statements) throws SQLException {
        try (Statement st = sql.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /**
     * A broker that takes 50 ms per batch (of at most 100 events, the bridges' buffer), so that a backfill of
     * {@value #ROWS} rows lasts about five seconds.
     */
    private static final class SlowSink implements Sink {
        private final Sink next;

        SlowSink(Sink next) {
            this.next = next;
        }

        @Override
        public String name() {
            return next.name();
        }

        @Override
        public Set<String> targetKinds() {
            return next.targetKinds();
        }

        @Override
        public void start() {
            next.start();
        }

        @Override
        public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
            Thread.sleep(50); // a slow broker, not a wait for a condition
            return next.publish(target, events);
        }

        @Override
        public void close() {
            next.close();
        }
    }
}
