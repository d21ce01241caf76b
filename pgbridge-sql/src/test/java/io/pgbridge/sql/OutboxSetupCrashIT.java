package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.internal.replication.SetupStep;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Streaming setup is crash-safe: a bridge JVM SIGKILLed between each pair of setup steps (publication, slot, backlog
 * and checkpoint recorded), while producers keep committing, is followed by a bridge that completes the setup and
 * delivers every event exactly once: the backlog (committed before the slot) from the table, the rest from the stream.
 * The step {@code none} is a first start without a crash.
 */
class OutboxSetupCrashIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int BEFORE = 30;
    private static final int DURING = 600;

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

    @ParameterizedTest
    @ValueSource(strings = {"none", "outbox-publication", "outbox-slot", "outbox-checkpoint"})
    void killedBetweenSetupStepsThenRestartedDeliversEveryEventOnce(String step) throws Exception {
        List<String> settings =
                List.of("outbox.mode=streaming", "wal.status-interval-ms=200", "outbox.schema=" + db.schema);
        Path log = Files.createTempFile("outbox-setup-child", ".log");
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            for (int i = 0; i < BEFORE; i++) {
                st.execute("select " + db.schema + ".send('events', '{\"before\": " + i + "}'::jsonb)");
            }
        }
        Thread producer = new Thread(() -> {
            try (Connection c = db.connect();
                    Statement st = c.createStatement()) {
                for (int i = 0; i < DURING; i++) {
                    st.execute("select " + db.schema + ".send('events', '{\"during\": " + i + "}'::jsonb)");
                    Thread.sleep(5); // commits before, during and after each setup step
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        producer.start();
        if (!step.equals("none")) {
            Process paused = OutboxChild.start(log, ledger, settings, List.of("-D" + SetupStep.PROPERTY + "=" + step));
            children.add(paused);
            await("the bridge reached setup step " + step).atMost(WAIT).until(() -> Files.readString(log)
                    .contains("setup paused at " + step));
            paused.destroyForcibly(); // SIGKILL
            assertThat(paused.waitFor(30, TimeUnit.SECONDS))
                    .as("killed child exited")
                    .isTrue();
            assertThat(count("select count(*) from " + ledger))
                    .as("delivered before the kill")
                    .isZero();
        }
        children.add(OutboxChild.start(log, ledger, settings));
        producer.join(WAIT.toMillis());
        int total = BEFORE + DURING;
        await().atMost(WAIT).until(() -> count("select count(distinct event_id) from " + ledger) == total);
        long missing = count("select count(*) from " + db.schema + ".events e where not exists (select 1 from " + ledger
                + " l where l.event_id = e.id)");
        assertThat(missing).as("events never delivered").isZero();
        await("the backlog forgotten once delivered")
                .atMost(WAIT)
                .until(() -> count("select count(*) from " + db.schema + ".backlog") == 0);
        assertThat(count("select count(*) - count(distinct event_id) from " + ledger))
                .as("events delivered more than once (killed before anything was delivered)")
                .isZero();
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
