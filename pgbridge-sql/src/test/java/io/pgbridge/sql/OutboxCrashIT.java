package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A bridge JVM killed with SIGKILL under a steady stream of outbox events, then started again: every committed event
 * reaches the sink (counted by id); duplicates only for what was in flight at the kill.
 */
class OutboxCrashIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int TOTAL = 600;

    private final TestDatabase db = new TestDatabase();
    private final List<Process> children = new ArrayList<>();
    private String ledger;

    @BeforeEach
    void setUp() throws Exception {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
        ledger = db.app + ".ledger";
        db.execute("create schema " + db.app + "; create table " + ledger + " (event_id bigint, payload text)");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : children) {
            p.destroyForcibly().waitFor();
        }
        db.dropStream();
        db.dropAll();
    }

    @Test
    void pollingBridgeKilledMidStreamLosesNothing() throws Exception {
        killMidStreamAndRestart(List.of(
                "outbox.mode=polling", "outbox.poll-interval-ms=200", "outbox.batch-size=20", "outbox.lease-ms=3000"));
    }

    @Test
    void streamingBridgeKilledMidStreamLosesNothing() throws Exception {
        killMidStreamAndRestart(List.of("outbox.mode=streaming", "wal.status-interval-ms=200"));
    }

    /**
     * The sink fails (its ledger table renamed away) long enough for the bridge to record the checkpoint and let the
     * slot move on; the bridge is killed during that outage, the sink comes back, and a new bridge replays from the
     * table.
     */
    @Test
    void streamingBridgeKilledDuringASinkOutageLosesNothing() throws Exception {
        killMidStreamAndRestart(
                List.of("outbox.mode=streaming", "wal.status-interval-ms=200", "outbox.replay-after-ms=500"),
                () -> {
                    db.execute("alter table " + ledger + " rename to ledger_down");
                    await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".replay") >= 50);
                },
                () -> db.execute("alter table " + db.app + ".ledger_down rename to ledger"));
    }

    private interface Step {
        void run() throws Exception;
    }

    private void killMidStreamAndRestart(List<String> modeSettings) throws Exception {
        killMidStreamAndRestart(modeSettings, () -> {}, () -> {});
    }

    /** {@code beforeKill} runs once a quarter is delivered, {@code afterKill} once the bridge is dead. */
    private void killMidStreamAndRestart(List<String> modeSettings, Step beforeKill, Step afterKill) throws Exception {
        List<String> settings = new ArrayList<>(modeSettings);
        settings.add("outbox.schema=" + db.schema);
        Path log = Files.createTempFile("outbox-child", ".log");
        AtomicInteger sent = new AtomicInteger();
        Thread producer = new Thread(() -> {
            try (Connection c = db.connect();
                    Statement st = c.createStatement()) {
                for (int i = 1; i <= TOTAL; i++) {
                    st.execute("select " + db.schema + ".send('events', '{\"seq\": " + i + "}'::jsonb)");
                    sent.set(i);
                    Thread.sleep(2); // a steady stream
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        Process first = OutboxChild.start(log, ledger, settings);
        children.add(first);
        // Sent before the bridge runs (in streaming mode: before its slot exists): read from the table.
        db.execute("select " + db.schema + ".send('events', '{\"seq\": 0}'::jsonb)");
        await().atMost(WAIT).until(() -> count("select count(*) from " + ledger) == 1);
        producer.start();
        await().atMost(WAIT).until(() -> count("select count(*) from " + ledger) >= TOTAL / 4);
        long atKill = count("select count(*) from " + ledger);
        beforeKill.run();
        first.destroyForcibly(); // SIGKILL
        assertThat(first.waitFor(30, java.util.concurrent.TimeUnit.SECONDS))
                .as("killed child exited")
                .isTrue();
        afterKill.run();

        Process second = OutboxChild.start(log, ledger, settings);
        children.add(second);
        producer.join(WAIT.toMillis());
        assertThat(sent.get()).as("events sent").isEqualTo(TOTAL);
        await().atMost(WAIT).until(() -> count("select count(distinct event_id) from " + ledger) == TOTAL + 1);

        long missing = count("select count(*) from " + db.schema + ".events e where e.stream_id = 1 and not exists"
                + " (select 1 from " + ledger + " l where l.event_id = e.id)");
        long duplicates = count("select count(*) - count(distinct event_id) from " + ledger);
        System.out.printf(
                "OutboxCrashIT %s: %d sent, %d delivered before the kill, %d duplicates after restart%n",
                modeSettings.get(0), TOTAL, atKill, duplicates);
        assertThat(missing).as("events in the outbox never delivered").isZero();
        assertThat(count("select count(distinct event_id) from " + ledger))
                .as("distinct events delivered")
                .isEqualTo(TOTAL + 1);
        assertThat(duplicates)
                .as("duplicates (only what was in flight at the kill)")
                .isLessThanOrEqualTo(500);
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
