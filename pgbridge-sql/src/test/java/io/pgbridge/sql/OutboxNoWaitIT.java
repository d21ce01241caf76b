package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox never makes the application wait on pgbridge: partition maintenance and a start behind an application
 * transaction that holds the events table, a polling claim during a sink outage (no open transaction), and leases
 * shared by two polling bridges.
 */
class OutboxNoWaitIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int WRITERS = 16;

    private final TestDatabase db = new TestDatabase();
    private final List<PgBridge> bridges = new ArrayList<>();
    private final ExecutorService writers = Executors.newFixedThreadPool(WRITERS);

    @BeforeEach
    void migrate() {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
    }

    @AfterEach
    void cleanUp() throws Exception {
        writers.shutdownNow();
        for (PgBridge b : bridges) {
            b.close();
        }
        db.dropStream();
        db.dropAll();
    }

    private PgBridge bridge(InMemorySink sink, Map<String, String> settings) {
        PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes("events->queue:events")
                .sink(sink)
                .source("outbox")
                .setting("outbox.schema", db.schema)
                .setting("outbox.poll-interval-ms", "200")
                .setting("wal.status-interval-ms", "200")
                .settings(settings)
                .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .build();
        bridges.add(bridge);
        return bridge;
    }

    /** The partition of a day from today (a negative number: before today). */
    private String partitionInDays(int days) {
        return "events_" + LocalDate.now(ZoneOffset.UTC).plusDays(days).format(DateTimeFormatter.BASIC_ISO_DATE);
    }

    /** 16 sessions each send 10 events in their own transactions; completes when all of them committed. */
    private CompletableFuture<Void> sendFromOtherSessions() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            all.add(CompletableFuture.runAsync(
                    () -> {
                        try (Connection c = db.connect();
                                Statement st = c.createStatement()) {
                            for (int i = 0; i < 10; i++) {
                                st.execute("select " + db.schema + ".send('events', '{\"w\": " + writer + ", \"i\": "
                                        + i + "}'::jsonb)");
                            }
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    writers));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]));
    }

    @Test
    void pollingStartAndMaintenanceBehindAnApplicationTransactionDoNotQueueOtherSessionsSends() throws Exception {
        maintenanceAndStartBehindAnApplicationTransaction(Map.of("outbox.mode", "polling"));
    }

    @Test
    void streamingRestartAndMaintenanceBehindAnApplicationTransactionDoNotQueueOtherSessionsSends() throws Exception {
        PgBridge first = bridge(new InMemorySink(), Map.of("outbox.mode", "streaming"));
        first.start(); // creates the slot: that waits for running transactions, by PostgreSQL's design
        first.close();
        maintenanceAndStartBehindAnApplicationTransaction(Map.of("outbox.mode", "streaming"));
    }

    /**
     * An application transaction holds the events table (ROW EXCLUSIVE) while a bridge starts. Maintenance creates a
     * missing partition all the same (attaching takes no lock an insert conflicts with). Dropping an expired one
     * needs ACCESS EXCLUSIVE: its request gives up after the DDL lock timeout and is asked again after a pause (seen
     * in pg_locks as requests with different wait starts), and the inserts of other sessions that queued behind one
     * request go on as soon as it gives up. Once the application commits, the partition is dropped.
     */
    private void maintenanceAndStartBehindAnApplicationTransaction(Map<String, String> mode) throws Exception {
        String missing = partitionInDays(2);
        String expired = partitionInDays(-30);
        db.execute("drop table " + db.schema + "." + missing);
        LocalDate expiredDay = LocalDate.now(ZoneOffset.UTC).minusDays(30);
        db.execute("create table " + db.schema + "." + expired + " partition of " + db.schema + ".events for values"
                + " from ('" + expiredDay + " 00:00+00') to ('" + expiredDay.plusDays(1) + " 00:00+00')");
        InMemorySink sink = new InMemorySink();
        Map<String, String> settings = new HashMap<>(mode);
        settings.put("postgresql.application-name", db.schema);
        try (Connection app = db.connect();
                Statement st = app.createStatement();
                LockWatch locks = new LockWatch()) {
            app.setAutoCommit(false);
            st.execute("select " + db.schema + ".send('events', '{\"app\": \"open\"}'::jsonb)"); // ROW EXCLUSIVE held
            PgBridge bridge = bridge(sink, settings);
            CompletableFuture<Void> started = CompletableFuture.runAsync(bridge::start);
            started.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            await("the missing partition created while the application transaction holds the table")
                    .atMost(WAIT)
                    .until(() -> exists(missing));
            CompletableFuture<Void> sends = sendFromOtherSessions();
            await("sends of 16 other sessions while the application transaction holds the table")
                    .atMost(WAIT)
                    .until(sends::isDone);
            sends.get();
            await("maintenance gave its ACCESS EXCLUSIVE request up and asked again, several times")
                    .atMost(WAIT)
                    .until(() -> locks.bridgeRequests() >= 3);
            sink.await(WRITERS * 10, WAIT);
            assertThat(exists(expired))
                    .as("expired partition dropped while the application transaction is open")
                    .isTrue();
            assertThat(locks.longestOtherWaitMillis())
                    .as(
                            "longest wait, in pg_locks, of another session's lock on the events table (the DDL lock"
                                    + " timeout is %s; a bound far above it, for a loaded machine)",
                            "10 ms")
                    .isLessThan(1_000);
            app.commit();
        }
        await("maintenance retried and dropped the partition once the application transaction ended")
                .atMost(WAIT)
                .until(() -> !exists(expired));
        sink.await(WRITERS * 10 + 1, WAIT);
    }

    /**
     * Samples pg_locks every few milliseconds for lock requests on this schema's events table that wait: counts the
     * bridge's distinct ACCESS EXCLUSIVE requests (by their wait start), and keeps the longest wait of any other
     * session's request.
     */
    private final class LockWatch implements AutoCloseable {
        private final Set<String> bridgeRequests = ConcurrentHashMap.newKeySet();
        private volatile double longestOtherWaitMillis;
        private volatile boolean running = true;
        private final CompletableFuture<Void> sampling;

        LockWatch() {
            sampling = CompletableFuture.runAsync(() -> {
                try (Connection c = db.connect();
                        PreparedStatement st = c.prepareStatement("select a.application_name = ?, l.mode,"
                                + " l.waitstart::text, coalesce(extract(epoch from clock_timestamp() - l.waitstart)"
                                + " * 1000, 0) from pg_locks l join pg_stat_activity a on a.pid = l.pid where not"
                                + " l.granted and l.locktype = 'relation' and l.relation = ?::regclass")) {
                    st.setString(1, db.schema);
                    st.setString(2, db.schema + ".events");
                    while (running) {
                        try (ResultSet rs = st.executeQuery()) {
                            while (rs.next()) {
                                if (rs.getBoolean(1)) {
                                    if (rs.getString(2).equals("AccessExclusiveLock") && rs.getString(3) != null) {
                                        bridgeRequests.add(rs.getString(3));
                                    }
                                } else {
                                    longestOtherWaitMillis = Math.max(longestOtherWaitMillis, rs.getDouble(4));
                                }
                            }
                        }
                        Thread.sleep(2); // the sampling period
                    }
                } catch (SQLException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        int bridgeRequests() {
            return bridgeRequests.size();
        }

        double longestOtherWaitMillis() {
            return longestOtherWaitMillis;
        }

        @Override
        public void close() throws Exception {
            running = false;
            sampling.get();
        }
    }

    /**
     * A polling start does not touch the stream's row in {@code streams}: it completes while another session holds
     * that row locked, and the bridge delivers meanwhile (turning its wake-ups on gives up after the lock timeout, so
     * it polls every interval); once the row is free, its wake-ups are on.
     */
    @Test
    void aPollingStartWhileTheStreamRowIsLockedCompletesAndDelivers() throws Exception {
        db.execute("insert into " + db.schema + ".streams (stream_id) values (1)");
        InMemorySink sink = new InMemorySink();
        PgBridge bridge = bridge(sink, Map.of("outbox.mode", "polling"));
        try (Connection app = db.connect();
                Statement st = app.createStatement()) {
            app.setAutoCommit(false);
            st.execute("select * from " + db.schema + ".streams where stream_id = 1 for update"); // the row, locked
            CompletableFuture.runAsync(bridge::start).get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            sendFromOtherSessions().get();
            sink.await(WRITERS * 10, WAIT);
            app.commit();
        }
        await("wake-ups turned on once the row is free")
                .atMost(WAIT)
                .until(() -> count("select count(*) from " + db.schema + ".streams where stream_id = 1 and"
                                + " wakeup_channel is not null")
                        == 1);
    }

    @Test
    void aPollingClaimHoldsNoTransactionOpenWhileTheSinkIsDown() throws Exception {
        InMemorySink sink = new InMemorySink();
        sink.setAvailable(false);
        bridge(sink, Map.of("outbox.mode", "polling", "postgresql.application-name", db.schema))
                .start();
        sendFromOtherSessions().get();
        await("events claimed under a lease while the sink is down")
                .atMost(WAIT)
                .until(() -> count("select count(*) from " + db.schema + ".events where claimed_until > now()") > 0);
        await("the sink was tried").atMost(WAIT).until(() -> sink.publishCalls() > 3);
        assertThat(count("select count(*) from pg_stat_activity where application_name = '" + db.schema
                        + "' and state like 'idle in transaction%'"))
                .as("bridge sessions idle in transaction while the sink is down")
                .isZero();
        assertThat(count("select count(*) from pg_stat_activity where application_name = '" + db.schema
                        + "' and xact_start is not null and state <> 'active'"))
                .as("bridge sessions in an open transaction while the sink is down")
                .isZero();
        sink.setAvailable(true);
        sink.await(WRITERS * 10, WAIT);
        await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".events") == 0);
    }

    @Test
    void aPollingBridgeClosedWhileItsSinkIsDownGivesItsLeasesUp() throws Exception {
        InMemorySink sink = new InMemorySink();
        sink.setAvailable(false);
        PgBridge bridge = bridge(sink, Map.of("outbox.mode", "polling"));
        bridge.start();
        sendFromOtherSessions().get();
        await("events claimed under a lease while the sink is down")
                .atMost(WAIT)
                .until(() -> count("select count(*) from " + db.schema + ".events where claimed_until > now()") > 0);
        bridge.close();
        assertThat(count("select count(*) from " + db.schema + ".events where claimed_by is not null"))
                .as("events still leased after close")
                .isZero();
        assertThat(count("select count(*) from " + db.schema + ".events"))
                .as("events left for the next bridge")
                .isEqualTo(WRITERS * 10);
    }

    @Test
    void twoPollingBridgesRenewTheirLeasesAndTakeOverAnExpiredOne() throws Exception {
        int total = 60;
        int crashed = 10;
        String crashedToken = UUID.randomUUID().toString();
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            for (int i = 0; i < total; i++) {
                st.execute("select " + db.schema + ".send('events', '{\"i\": " + i + "}'::jsonb)");
            }
            // The state a SIGKILLed bridge leaves: its claim's lease is live, nobody renews it.
            st.execute(
                    "update " + db.schema + ".events set claimed_until = now() + interval '2 seconds', claimed_by = '"
                            + crashedToken + "' where id in (select id from " + db.schema + ".events order by id limit "
                            + crashed + ")");
        }
        String byBridges = db.schema + ".events where claimed_by <> '" + crashedToken + "'";
        Map<String, String> settings =
                Map.of("outbox.mode", "polling", "outbox.lease-ms", "1500", "outbox.batch-size", "30");
        InMemorySink first = new InMemorySink();
        InMemorySink second = new InMemorySink();
        first.setAvailable(false);
        second.setAvailable(false);
        bridge(first, settings).start();
        bridge(second, settings).start();
        await("both bridges claimed their batches")
                .atMost(WAIT)
                .until(() ->
                        count("select count(*) from " + byBridges + " and claimed_until > now()") == total - crashed);
        // Outlast the first leases: the bridges renew them while their sinks are down.
        String firstLeasesEnd = text("select max(claimed_until)::text from " + byBridges);
        await("every lease of the bridges renewed past the end of the first ones")
                .atMost(WAIT)
                .until(() -> count("select count(*) from " + byBridges + " and claimed_until <= '" + firstLeasesEnd
                                + "'::timestamptz")
                        == 0);
        assertThat(first.events().size() + second.events().size())
                .as("deliveries while the sinks are down")
                .isZero();
        // The crashed bridge's lease has expired by now: its rows are claimed again once a bridge is free.
        first.setAvailable(true);
        second.setAvailable(true);
        await().atMost(WAIT).until(() -> first.events().size() + second.events().size() >= total);
        await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".events") == 0);
        Set<String> ids = new HashSet<>();
        List<String> duplicates = new ArrayList<>();
        for (InMemorySink sink : List.of(first, second)) {
            for (Event e : sink.events()) {
                if (!ids.add(e.id())) {
                    duplicates.add(e.id());
                }
            }
        }
        assertThat(ids).as("distinct events delivered").hasSize(total);
        assertThat(duplicates)
                .as("events delivered twice (a renewed lease keeps them from the other bridge)")
                .isEmpty();
    }

    private boolean exists(String partition) throws SQLException {
        return !text("select coalesce(to_regclass('" + db.schema + "." + partition + "')::text, '')")
                .isEmpty();
    }

    private long count(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String text(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
