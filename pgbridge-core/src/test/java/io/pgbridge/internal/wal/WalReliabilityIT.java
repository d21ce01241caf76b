package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Breaks things during a steady stream and checks that every committed change arrives, in commit order, with
 * duplicates only for events that were in flight.
 */
class WalReliabilityIT {
    private static final int ROWS = 3_000;
    private static final int ROWS_PER_TXN = 10;

    private WalFixture db;
    private String table;

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        db = new WalFixture();
        table = db.schema + ".orders";
        db.exec("CREATE TABLE " + table + " (id int PRIMARY KEY, note text)");
    }

    @AfterEach
    void tearDown() throws Exception {
        db.close();
    }

    /** Inserts ids 1..ROWS in transactions of ROWS_PER_TXN, one session, so commit order is id order. */
    private CompletableFuture<Void> produce(long pauseMillis) {
        return CompletableFuture.runAsync(() -> {
            try (Connection c = TestServices.postgresConnection();
                    PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " VALUES (?, ?)")) {
                c.setAutoCommit(false);
                for (int id = 1; id <= ROWS; id++) {
                    ps.setInt(1, id);
                    ps.setString(2, "order " + id);
                    ps.executeUpdate();
                    if (id % ROWS_PER_TXN == 0) {
                        c.commit();
                        if (pauseMillis > 0) {
                            TimeUnit.MILLISECONDS.sleep(pauseMillis); // pacing the producer, not waiting
                        }
                    }
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }

    private static int id(Event e) {
        return WalFixture.json(e).get("new").get("id").asInt();
    }

    private static List<Integer> ids(List<Event> events) {
        List<Integer> ids = new ArrayList<>();
        for (Event e : events) {
            ids.add(id(e));
        }
        return ids;
    }

    private static List<Integer> oneToRows() {
        List<Integer> all = new ArrayList<>();
        for (int i = 1; i <= ROWS; i++) {
            all.add(i);
        }
        return all;
    }

    @Test
    void walsenderTerminatedMidStreamLosesNothing() throws Exception {
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = db.bridge(table + "->queue:orders", sink).build()) {
            bridge.start();
            CompletableFuture<Void> producer = produce(2);
            int kills = 0;
            while (kills < 3) {
                int before = sink.events().size();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> sink.events().size() > before + 200
                                || (producer.isDone() && sink.events().size() >= ROWS));
                if (terminateWalsender() > 0) {
                    kills++;
                }
                if (producer.isDone()) {
                    break;
                }
            }
            producer.get(60, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(60)).until(() -> sink.events().size() >= ROWS);
            assertThat(kills).as("walsender terminations during the stream").isPositive();
            assertThat(ids(sink.events()))
                    .as("every committed change once, in commit order (a reconnect skips what was handed over)")
                    .containsExactlyElementsOf(oneToRows());
            assertThat(bridge.state()).as("bridge state").isEqualTo(PgBridge.State.RUNNING);
        }
    }

    @Test
    void statusUpdatesKeepTheConnectionWhileTheSinkIsDown() throws Exception {
        InMemorySink sink = new InMemorySink();
        sink.setAvailable(false);
        // a walsender that drops clients silent for 1 s, a pipeline that is full after 20 events
        String url = TestServices.postgresUrl() + "?options=-c%20wal_sender_timeout%3D1000";
        try (PgBridge bridge = db.bridge(table + "->queue:orders", sink)
                .postgres(url)
                .bufferMaxEvents(20)
                .retryBackoff(Duration.ofMillis(100), Duration.ofMillis(200))
                .build()) {
            bridge.start();
            int walsender = db.walsenderPid();
            db.exec("INSERT INTO " + table + " SELECT g, 'x' FROM generate_series(1, 500) g");
            await().atMost(Duration.ofSeconds(10)).until(() -> bridge.stats().inFlightEvents() == 20);
            await().during(Duration.ofSeconds(4))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> db.walsenderPid() == walsender);
            sink.setAvailable(true);
            await().atMost(Duration.ofSeconds(30)).until(() -> sink.events().size() >= 500);
            assertThat(db.walsenderPid())
                    .as("the same walsender: the reader, blocked on a full pipeline, kept sending status updates")
                    .isEqualTo(walsender);
            assertThat(ids(sink.events()))
                    .as("every row once, in order")
                    .hasSize(500)
                    .isSorted();
        }
    }

    private int terminateWalsender() throws SQLException {
        try (PreparedStatement ps = db.sql.prepareStatement("SELECT count(pg_terminate_backend(active_pid)) FROM "
                + "pg_replication_slots WHERE slot_name = ? AND active")) {
            ps.setString(1, db.slot);
            var rs = ps.executeQuery();
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void bridgeClosedAndStartedAgainMidStreamLosesNothing() throws Exception {
        InMemorySink first = new InMemorySink();
        CompletableFuture<Void> producer;
        long confirmedAtClose;
        try (PgBridge bridge = db.bridge(table + "->queue:orders", first).build()) {
            bridge.start();
            producer = produce(2);
            await().atMost(Duration.ofSeconds(30)).until(() -> first.events().size() >= 500);
        }
        confirmedAtClose = db.confirmedFlush();
        assertThat(producer).as("closed mid-stream").isNotDone();

        InMemorySink second = new InMemorySink();
        try (PgBridge bridge = db.bridge(table + "->queue:orders", second).build()) {
            bridge.start();
            producer.get(60, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> union(first.events(), second.events()).size() >= ROWS);
        }
        assertThat(union(first.events(), second.events())).as("no loss").isEqualTo(new HashSet<>(oneToRows()));
        assertThat(ids(second.events())).as("commit order after restart").isSorted();
        assertDuplicatesOnlyInFlight(first.events(), second.events(), confirmedAtClose);
    }

    private static Set<Integer> union(List<Event> a, List<Event> b) {
        Set<Integer> all = new HashSet<>(ids(a));
        all.addAll(ids(b));
        return all;
    }

    /** Events delivered twice must belong to transactions the slot had not confirmed when the first bridge went. */
    private static void assertDuplicatesOnlyInFlight(List<Event> first, List<Event> second, long confirmed) {
        Map<String, Event> seen = new HashMap<>();
        first.forEach(e -> seen.put(e.id(), e));
        List<Event> duplicates = new ArrayList<>();
        for (Event e : second) {
            if (seen.containsKey(e.id())) {
                duplicates.add(e);
            }
        }
        assertThat(duplicates)
                .as(
                        "duplicates (%d) only for transactions at or after confirmed_flush_lsn %d",
                        duplicates.size(), confirmed)
                .allSatisfy(e -> assertThat(e.position()).isGreaterThanOrEqualTo(confirmed));
    }

    @Test
    void jvmKilledMidStreamLosesNothing() throws Exception {
        Path firstLedger = dir.resolve("first.ledger");
        Path secondLedger = dir.resolve("second.ledger");
        String routes = table + "->queue:orders";
        Process child = WalChild.start(
                dir.resolve("child.log"),
                List.of("-Xmx128m"),
                TestServices.postgresUrl(),
                db.slot,
                routes,
                firstLedger.toString(),
                "-1");
        Process second = null;
        try {
            awaitSlotActive();
            CompletableFuture<Void> producer = produce(3);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> lines(firstLedger).size() >= 300);
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child killed").isTrue();
            long confirmedAtKill = db.confirmedFlush();
            assertThat(producer).as("killed mid-stream").isNotDone();

            second = WalChild.start(
                    dir.resolve("child.log"),
                    List.of("-Xmx128m"),
                    TestServices.postgresUrl(),
                    db.slot,
                    routes,
                    secondLedger.toString(),
                    "-1");
            producer.get(60, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> ledgerIds(firstLedger, secondLedger).size() >= ROWS);

            assertThat(ledgerIds(firstLedger, secondLedger)).as("no loss").isEqualTo(new HashSet<>(oneToRows()));
            Set<String> firstIds = new HashSet<>();
            for (String line : lines(firstLedger)) {
                firstIds.add(line.split("\t")[0]);
            }
            int duplicates = 0;
            for (String line : lines(secondLedger)) {
                String[] f = line.split("\t");
                if (firstIds.contains(f[0])) {
                    duplicates++;
                    assertThat(Long.parseLong(f[1]))
                            .as("duplicate %s is from a transaction not confirmed at the kill", f[0])
                            .isGreaterThanOrEqualTo(confirmedAtKill);
                }
            }
            System.out.println("SIGKILL test: " + duplicates + " duplicate(s) after the kill");
        } finally {
            child.destroyForcibly();
            if (second != null) {
                second.destroy();
                second.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void hundredThousandRowTransactionStreamsInBoundedHeap() throws Exception {
        Path ledger = dir.resolve("large.ledger");
        int rows = 100_000;
        // About 700 bytes of JSON per row, 70 MB for the transaction: more than the child's whole 64 MB heap, so it
        // only passes if the transaction streams through the pipeline's bounded buffer.
        Process child = WalChild.start(
                dir.resolve("child.log"),
                List.of("-Xmx64m", "-XX:+ExitOnOutOfMemoryError"),
                TestServices.postgresUrl(),
                db.slot,
                table + "->queue:orders",
                ledger.toString(),
                Integer.toString(rows),
                "buffer.max-bytes=8388608");
        try {
            awaitSlotActive();
            db.exec("INSERT INTO " + table + " SELECT g, repeat(md5(g::text), 18) FROM generate_series(1, " + rows
                    + ") g");
            assertThat(child.waitFor(240, TimeUnit.SECONDS))
                    .as("child finished in time")
                    .isTrue();
            assertThat(child.exitValue())
                    .as("child exit code (an OutOfMemoryError exits with 3)")
                    .isZero();
            assertThat(lines(ledger)).as("every row of the transaction").hasSize(rows);
        } finally {
            child.destroyForcibly();
        }
    }

    private void awaitSlotActive() {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            try (PreparedStatement ps =
                    db.sql.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND active")) {
                ps.setString(1, db.slot);
                return ps.executeQuery().next();
            }
        });
    }

    /** The lines the child finished writing (it may be in the middle of the last one, or killed there). */
    private static List<String> lines(Path file) throws java.io.IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> complete = new ArrayList<>();
        for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
            if (line.split("\t").length == 3) {
                complete.add(line);
            }
        }
        return complete;
    }

    private static Set<Integer> ledgerIds(Path... files) throws java.io.IOException {
        Set<Integer> ids = new HashSet<>();
        for (Path f : files) {
            for (String line : lines(f)) {
                ids.add(WalFixture.JSON
                        .readTree(line.split("\t")[2])
                        .get("new")
                        .get("id")
                        .asInt());
            }
        }
        return ids;
    }
}
