package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Checkpoint and replay in streaming mode: while the sink is down the slot keeps moving (its
 * {@code confirmed_flush_lsn} passes the events committed during the outage), and afterwards every committed event is
 * delivered from the table, in commit order, then the stream goes on.
 */
class StreamingOutboxReplayIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final TestDatabase db = new TestDatabase();
    private final List<PgBridge> bridges = new ArrayList<>();
    private final String slot = db.slot();

    @BeforeEach
    void migrate() {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (PgBridge b : bridges) {
            b.close();
        }
        db.dropStream();
        db.dropAll();
    }

    private PgBridge start(InMemorySink sink) {
        return start(sink, "10000");
    }

    private PgBridge start(InMemorySink sink, String maxEvents) {
        PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes("events->queue:events")
                .sink(sink)
                .source("outbox")
                .setting("outbox.schema", db.schema)
                .setting("outbox.mode", "streaming")
                .setting("outbox.replay-after-ms", "500")
                .setting("wal.status-interval-ms", "200")
                .setting("wal.heartbeat-interval-ms", "500")
                .setting("buffer.max-events", maxEvents)
                .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .shutdownTimeout(Duration.ofSeconds(1))
                .build();
        bridges.add(bridge);
        bridge.start();
        return bridge;
    }

    @Test
    void sinkOutageKeepsTheSlotMovingThenReplaysEveryEventInCommitOrder() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink);
        Producer producer = new Producer(600);
        producer.start();
        await().atMost(WAIT).until(() -> sink.events().size() >= 50);

        sink.setAvailable(false);
        int atOutage = sink.events().size();
        await().atMost(WAIT).until(() -> producer.sent() >= atOutage + 150);
        String reached = text("select pg_current_wal_lsn()::text");
        await().atMost(WAIT)
                .alias("the slot confirms WAL written during the outage")
                .until(() -> count("select count(*) from pg_replication_slots where slot_name = '" + slot
                                + "' and confirmed_flush_lsn >= '" + reached + "'::pg_lsn")
                        == 1);
        assertThat(sink.events()).as("deliveries while the sink is down").hasSize(atOutage);
        assertThat(count("select count(*) from " + db.schema + ".checkpoints where failover_since is not null"))
                .as("checkpoint of the outage")
                .isEqualTo(1);
        assertThat(count("select count(*) from " + db.schema + ".replay"))
                .as("events recorded for replay")
                .isGreaterThan(100);

        sink.setAvailable(true);
        producer.finish();
        assertThat(seqs(sink.await(producer.total, WAIT)))
                .as("every committed event once, in commit order")
                .isEqualTo(oneTo(producer.total));
        awaitBackToStreaming();

        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "{\"seq\": " + (producer.total + 1) + "}");
        }
        assertThat(seqs(sink.await(producer.total + 1, WAIT)))
                .as("streamed after the replay")
                .isEqualTo(oneTo(producer.total + 1));
    }

    /** RELIABILITY.md scenario 28: a transaction open across the checkpoint that commits after later ones. */
    @Test
    void longTransactionOpenAcrossTheCheckpointIsReplayedAtItsCommit() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink);
        try (Connection longTx = db.connect();
                Statement lst = longTx.createStatement();
                Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "{\"n\": \"before\"}");
            sink.await(1, WAIT);
            longTx.setAutoCommit(false);
            send(lst, "{\"n\": \"long 1\"}"); // lower ids than the later transactions, committed after them
            sink.setAvailable(false);
            send(st, "{\"n\": \"later 0\"}");
            await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".replay") >= 1);
            for (int i = 1; i < 5; i++) {
                send(st, "{\"n\": \"later " + i + "\"}");
            }
            String reached = text("select pg_current_wal_lsn()::text");
            await().atMost(WAIT)
                    .alias("the slot moves past the later transactions while the long one is open")
                    .until(() -> count("select count(*) from pg_replication_slots where slot_name = '" + slot
                                    + "' and confirmed_flush_lsn >= '" + reached + "'::pg_lsn")
                            == 1);
            send(lst, "{\"n\": \"long 2\"}");
            longTx.commit();
            String committed = text("select pg_current_wal_lsn()::text");
            await().atMost(WAIT)
                    .alias("the slot moves past the long transaction")
                    .until(() -> count("select count(*) from pg_replication_slots where slot_name = '" + slot
                                    + "' and confirmed_flush_lsn >= '" + committed + "'::pg_lsn")
                            == 1);
            assertThat(sink.events()).as("deliveries while the sink is down").hasSize(1);
            sink.setAvailable(true);
        }
        List<String> ns = new ArrayList<>();
        for (Event e : sink.await(8, WAIT)) {
            ns.add(field(e, "n"));
        }
        assertThat(ns)
                .as("events in commit order, the long transaction's included")
                .containsExactly("before", "later 0", "later 1", "later 2", "later 3", "later 4", "long 1", "long 2");
        awaitBackToStreaming();
        assertThat(sink.events()).as("no duplicates").hasSize(8);
    }

    /** The pipeline fills up in the middle of a large transaction: the rest of it is recorded, not lost. */
    @Test
    void outageNoticedInTheMiddleOfALargeTransactionRecordsTheRestOfIt() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink, "20");
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "{\"seq\": 1}");
            sink.await(1, WAIT);
            sink.setAvailable(false);
            st.execute("select " + db.schema + ".send('events', jsonb_build_object('seq', i))"
                    + " from generate_series(2, 301) i");
            for (int i = 302; i <= 310; i++) {
                send(st, "{\"seq\": " + i + "}");
            }
        }
        String reached = text("select pg_current_wal_lsn()::text");
        await().atMost(WAIT)
                .alias("the slot moves past the large transaction while the sink is down")
                .until(() -> count("select count(*) from pg_replication_slots where slot_name = '" + slot
                                + "' and confirmed_flush_lsn >= '" + reached + "'::pg_lsn")
                        == 1);
        assertThat(count("select count(*) from " + db.schema + ".replay"))
                .as("recorded: every event after the first")
                .isEqualTo(309);
        sink.setAvailable(true);
        assertThat(seqs(sink.await(310, WAIT)))
                .as("every event once, in commit order")
                .isEqualTo(oneTo(310));
        awaitBackToStreaming();
        assertThat(sink.events()).as("no duplicates").hasSize(310);
    }

    /**
     * A write of recorded events fails while failed over (here the replay table is locked past the lock timeout; in
     * pgbridge-chaos, seed 4736136541995590123 of streamingOutboxToWebhook, PostgreSQL crashed, and 1,944 events were
     * lost): the server sends the transaction again, and it is recorded again before the stream goes back to
     * streaming, never skipped as recorded.
     */
    @Test
    void aTransactionWhoseRecordingFailedIsRecordedAgainBeforeStreamingResumes() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink);
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                Connection locker = db.connect();
                Statement lst = locker.createStatement()) {
            send(st, "{\"seq\": 1}");
            sink.await(1, WAIT);
            sink.setAvailable(false);
            send(st, "{\"seq\": 2}");
            await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".replay") >= 1);
            locker.setAutoCommit(false);
            lst.execute("lock table " + db.schema + ".replay in share mode"); // reads go on, writes wait
            st.execute("select " + db.schema + ".send('events', jsonb_build_object('seq', i))"
                    + " from generate_series(3, 1202) i");
            Set<Integer> waiting = new HashSet<>();
            await().atMost(WAIT)
                    .alias("a write of recorded events gave up waiting for the lock, and a new connection waits")
                    .until(() -> {
                        waiting.addAll(replayLockWaiters());
                        return waiting.size() >= 2;
                    });
            sink.setAvailable(true);
            sink.await(2, WAIT); // nothing handed over is unconfirmed now: only the failed write holds failover
            int before = waiting.size();
            await().atMost(WAIT).alias("writes still fail after the deliveries").until(() -> {
                waiting.addAll(replayLockWaiters());
                return waiting.size() > before;
            });
            locker.commit();
        }
        assertThat(seqs(sink.await(1202, WAIT)))
                .as("every event once, in commit order")
                .isEqualTo(oneTo(1202));
        awaitBackToStreaming();
        assertThat(sink.events()).as("no duplicates").hasSize(1202);
    }

    /** The backends waiting for a lock on the replay table. */
    private Set<Integer> replayLockWaiters() throws SQLException {
        Set<Integer> pids = new HashSet<>();
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pid from pg_locks where not granted and relation = '" + db.schema
                        + ".replay'::regclass")) {
            while (rs.next()) {
                pids.add(rs.getInt(1));
            }
        }
        return pids;
    }

    @Test
    void bridgeRestartedDuringTheOutageDeliversEverythingAfterwards() throws Exception {
        InMemorySink first = new InMemorySink();
        PgBridge bridge = start(first);
        Producer producer = new Producer(500);
        producer.start();
        await().atMost(WAIT).until(() -> first.events().size() >= 50);
        first.setAvailable(false);
        int atOutage = first.events().size();
        await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".replay") >= 100);
        bridge.close();
        assertThat(count("select count(*) from " + db.schema + ".replay"))
                .as("recorded events kept across the restart")
                .isGreaterThanOrEqualTo(100);

        InMemorySink second = new InMemorySink();
        start(second);
        producer.finish();
        await().atMost(WAIT).until(() -> distinctSeqs(first, second).size() == producer.total);
        awaitBackToStreaming();
        List<Integer> afterRestart = seqs(second.events());
        assertThat(distinctSeqs(first, second))
                .as("every event delivered")
                .isEqualTo(new LinkedHashSet<>(oneTo(producer.total)));
        assertThat(afterRestart)
                .as("the second bridge delivers in commit order, starting at most at the first undelivered event")
                .isSorted();
        assertThat(afterRestart.get(0)).as("first after the restart").isLessThanOrEqualTo(atOutage + 1);
    }

    private void awaitBackToStreaming() {
        await().atMost(WAIT)
                .alias("back to streaming: checkpoint cleared, nothing recorded")
                .until(() ->
                        count("select count(*) from " + db.schema + ".checkpoints where failover_since is null") == 1
                                && count("select count(*) from " + db.schema + ".replay") == 0);
    }

    private Set<Integer> distinctSeqs(InMemorySink first, InMemorySink second) throws Exception {
        Set<Integer> all = new java.util.TreeSet<>(seqs(first.events()));
        all.addAll(seqs(second.events()));
        return all;
    }

    /** Sends {@code {"seq": i}} for i = 1..total in autocommit transactions, at a steady pace, on its own thread. */
    private final class Producer {
        final int total;
        private final AtomicInteger sent = new AtomicInteger();
        private final AtomicBoolean failed = new AtomicBoolean();
        private final Thread thread;

        Producer(int total) {
            this.total = total;
            this.thread = new Thread(this::run, "test-producer");
        }

        private void run() {
            try (Connection c = db.connect();
                    Statement st = c.createStatement()) {
                for (int i = 1; i <= total; i++) {
                    send(st, "{\"seq\": " + i + "}");
                    sent.set(i);
                    if (i % 10 == 0) {
                        Thread.sleep(10); // a steady stream, not one burst
                    }
                }
            } catch (SQLException | InterruptedException e) {
                failed.set(true);
                throw new IllegalStateException(e);
            }
        }

        void start() {
            thread.start();
        }

        int sent() {
            return sent.get();
        }

        void finish() throws InterruptedException {
            thread.join(WAIT.toMillis());
            assertThat(failed.get()).as("producer failed").isFalse();
            assertThat(sent.get()).as("events sent").isEqualTo(total);
        }
    }

    private void send(Statement st, String json) throws SQLException {
        st.execute("select " + db.schema + ".send('events', '" + json + "'::jsonb)");
    }

    private static String field(Event e, String name) {
        String p = e.payloadAsString();
        int at = p.indexOf("\"" + name + "\": ") + name.length() + 4;
        return p.charAt(at) == '"' ? p.substring(at + 1, p.indexOf('"', at + 1)) : p.substring(at, p.indexOf('}', at));
    }

    private static List<Integer> seqs(List<Event> events) {
        List<Integer> out = new ArrayList<>();
        for (Event e : events) {
            out.add(Integer.parseInt(field(e, "seq")));
        }
        return out;
    }

    private static List<Integer> oneTo(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(i);
        }
        return out;
    }

    private String text(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private long count(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
