package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.SchemaException;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code wal.snapshot=initial}, and the online backfill ({@link PgBridge#backfill}), against a real PostgreSQL while
 * writers update, delete and insert rows throughout: the events rebuild the table (no missing row, no row whose last
 * event is older than its last committed change), in one bridge and across a SIGKILL of the bridge's JVM in the middle
 * of the snapshot. The table's size and the writers are system properties ({@link #ROWS}, {@link #WRITERS}): CI runs
 * 50,000 rows; the 1,000,000 rows with four writers is run by hand (docs/wal.md has the command and figures).
 */
class WalSnapshotIT {
    /**
     * Rows of the table ({@code -Dpgbridge.test.snapshot-rows}, default 50,000 for CI; the goal, 1,000,000, is
     * run by hand: see docs/wal.md).
     */
    static final int ROWS = Integer.getInteger("pgbridge.test.snapshot-rows", 50_000);
    /** Writers updating, deleting and inserting rows throughout ({@code -Dpgbridge.test.snapshot-writers}). */
    static final int WRITERS = Integer.getInteger("pgbridge.test.snapshot-writers", 2);
    /** How long a snapshot, a backfill or the events' rebuilding may take: 2 minutes per 50,000 rows. */
    static final Duration LONG = Duration.ofSeconds(120L * Math.max(1, ROWS / 50_000));

    WalFixture db;
    String table;

    @TempDir
    Path dir;

    final AtomicBoolean writing = new AtomicBoolean(true);
    final AtomicLong writes = new AtomicLong();
    final List<Thread> writers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        db = new WalFixture();
        table = db.schema + ".items";
        db.exec(
                "CREATE TABLE " + table + " (id bigint PRIMARY KEY, version bigint NOT NULL, note text)",
                "CREATE SEQUENCE " + db.schema + ".versions START 1000000",
                "INSERT INTO " + table + " SELECT g, g, md5(g::text) FROM generate_series(1, " + ROWS + ") g");
    }

    @AfterEach
    void tearDown() throws Exception {
        stopWriters();
        try (PreparedStatement ps = db.sql.prepareStatement(
                "DELETE FROM " + SnapshotStore.TABLE + " WHERE slot = ? OR starts_with(slot, ? || '/')")) {
            ps.setString(1, db.slot);
            ps.setString(2, db.slot);
            ps.execute();
        } catch (SQLException e) {
            // the table is created by the first snapshot; a test that failed before has none
        }
        db.close();
    }

    @Test
    void snapshotUnderConcurrentWritersRebuildsTheTable() throws Exception {
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = snapshotUnderWriters(sink)) {
            long writesAtStart = writes.get();
            await().atMost(LONG).until(() -> "done".equals(snapshotState()));
            assertThat(writes.get() - writesAtStart)
                    .as("writes committed while the snapshot was read")
                    .isPositive();
            stopWriters();
            awaitRebuilt(() -> payloads(sink.events()));
            List<String> payloads = payloads(sink.events());
            Set<Long> read = new HashSet<>();
            String consistentPoint = null;
            long reads = 0;
            for (String p : payloads) {
                JsonNode e = WalFixture.JSON.readTree(p);
                if (e.get("op").asText().equals("r")) {
                    reads++;
                    assertThat(read.add(e.get("key").get("id").asLong()))
                            .as("row %s read twice", e.get("key"))
                            .isTrue();
                    consistentPoint = consistentPoint == null ? e.get("lsn").asText() : consistentPoint;
                    assertThat(e.get("lsn").asText())
                            .as("lsn of a snapshot row")
                            .isEqualTo(consistentPoint);
                    assertThat(e.has("new") && e.get("new").has("note"))
                            .as("new row of %s", p)
                            .isTrue();
                }
            }
            long rowEvents = reads;
            assertThat(bridge.stats().snapshots())
                    .as("stats().snapshots()")
                    .singleElement()
                    .satisfies(p -> {
                        assertThat(p.state()).isEqualTo(io.pgbridge.BackfillProgress.State.DONE);
                        assertThat(p.rows()).as("rows read: the 'r' events").isEqualTo(rowEvents);
                        assertThat(p.totalRows())
                                .as("rows counted in the exported snapshot, while writers changed the table")
                                .isEqualTo(p.rows());
                    });
            System.out.println("WalSnapshotIT: " + reads + " rows read in the snapshot, " + (payloads.size() - reads)
                    + " changes streamed, " + writes.get() + " writes");
        }
    }

    @Test
    void snapshotProgressShowsInStatsAndMeters() throws Exception {
        InMemorySink sink = new InMemorySink();
        sink.setAvailable(false); // the snapshot stops in its middle: the buffer fills and waits for the sink
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        try (PgBridge bridge = db.bridge(table + "->queue:items", sink)
                .setting("wal.snapshot", "initial")
                .setting("buffer.max-events", "10000")
                .meterRegistry(registry)
                .build()) {
            bridge.start();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                io.pgbridge.BackfillProgress p = singleSnapshot(bridge);
                assertThat(p.rows()).as("rows read before the buffer filled").isBetween(1L, ROWS - 1L);
                assertThat(snapshotGauge(registry, "rows")).as("meter rows").isEqualTo(p.rows());
                assertThat(snapshotGauge(registry, "chunks")).as("meter chunks").isEqualTo(p.chunks());
                assertThat(p.chunks()).isEqualTo(p.rows() / InitialSnapshot.CHUNK_ROWS);
            });
            io.pgbridge.BackfillProgress running = singleSnapshot(bridge);
            assertThat(running.id()).as("the slot, its record's key").isEqualTo(db.slot);
            assertThat(running.table()).isEqualTo(table);
            assertThat(running.filter()).isNull();
            assertThat(running.state()).isEqualTo(io.pgbridge.BackfillProgress.State.RUNNING);
            assertThat(running.totalRows()).as("count(*) of the table").isEqualTo(ROWS);
            assertThat(snapshotGauge(registry, "total.rows")).isEqualTo(ROWS);
            assertThat(snapshotGauge(registry, "percent"))
                    .as("meter percent")
                    .isEqualTo(100.0 * running.rows() / ROWS)
                    .isEqualTo(running.percent());
            assertThat(snapshotGauge(registry, "rate")).as("meter rate").isPositive();
            assertThat(snapshotState(registry, "running")).isEqualTo(1);
            assertThat(snapshotState(registry, "done")).isZero();

            sink.setAvailable(true);
            await().atMost(LONG).until(() -> snapshotState(registry, "done") == 1);
            io.pgbridge.BackfillProgress done = singleSnapshot(bridge);
            assertThat(done.state()).isEqualTo(io.pgbridge.BackfillProgress.State.DONE);
            assertThat(done.rows()).isEqualTo(ROWS);
            assertThat(snapshotGauge(registry, "rows")).isEqualTo(ROWS);
            assertThat(snapshotGauge(registry, "total.rows")).isEqualTo(ROWS);
            assertThat(snapshotGauge(registry, "chunks"))
                    .as("full chunks and the last, shorter one")
                    .isEqualTo(ROWS / InitialSnapshot.CHUNK_ROWS + 1);
            assertThat(snapshotGauge(registry, "percent")).isEqualTo(100.0);
            assertThat(snapshotGauge(registry, "rate")).isPositive();
            assertThat(snapshotState(registry, "running")).isZero();
            assertThat(snapshotState(registry, "failed")).isZero();
            assertThat(snapshotState()).as("record").isEqualTo("done");
            assertThat(sink.events()).hasSize(ROWS);
        }
        assertThat(registry.find("pgbridge.snapshot.rows").gauges())
                .as("meters removed with the bridge")
                .isEmpty();
    }

    private static io.pgbridge.BackfillProgress singleSnapshot(PgBridge bridge) {
        List<io.pgbridge.BackfillProgress> snapshots = bridge.stats().snapshots();
        assertThat(snapshots).as("stats().snapshots()").hasSize(1);
        return snapshots.get(0);
    }

    private static double snapshotGauge(io.micrometer.core.instrument.MeterRegistry registry, String name) {
        return registry.get("pgbridge.snapshot." + name)
                .tag("source", "wal")
                .gauge()
                .value();
    }

    private static double snapshotState(io.micrometer.core.instrument.MeterRegistry registry, String state) {
        return registry.get("pgbridge.snapshot.state")
                .tag("source", "wal")
                .tag("state", state)
                .gauge()
                .value();
    }

    @Test
    void backfillWhileWritersChangeTheTableAndAnotherTableStreamsRebuildsTheTable() throws Exception {
        String other = db.schema + ".other";
        db.exec("CREATE TABLE " + other + " (id bigserial PRIMARY KEY, v int NOT NULL)");
        InMemorySink sink = new InMemorySink();
        LatencySink latencies = new LatencySink(sink, other);
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        try (PgBridge bridge = db.bridge(table + "->queue:items, " + other + "->queue:other", latencies)
                .meterRegistry(registry)
                .build()) {
            bridge.start();
            startWriters();
            AtomicLong otherRows = new AtomicLong();
            Thread streaming = new Thread(
                    () -> {
                        try (Connection c = TestServices.postgresConnection();
                                PreparedStatement ps = c.prepareStatement("INSERT INTO " + other + " (v) VALUES (1)")) {
                            while (writing.get()) {
                                ps.executeUpdate();
                                otherRows.incrementAndGet();
                            }
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    "backfill-it-other-writer");
            streaming.start();
            writers.add(streaming);
            // the baseline: 3 s of streaming once the start's backlog is gone (p99 of the last second under 100 ms)
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                long now = System.nanoTime();
                return latencies.p99(now - TimeUnit.SECONDS.toNanos(1), now) < 100;
            });
            long baselineFrom = System.nanoTime();
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> System.nanoTime() - baselineFrom > TimeUnit.SECONDS.toNanos(3));
            long writesAtStart = writes.get();
            long backfillFrom = System.nanoTime();
            io.pgbridge.BackfillTask backfill = bridge.backfill(table);
            assertThat(backfill.await(LONG.plusSeconds(60)))
                    .as("backfill ended")
                    .isTrue();
            long backfillTo = System.nanoTime();
            io.pgbridge.BackfillProgress done = backfill.progress();
            assertThat(done.state()).as("backfill %s", done).isEqualTo(io.pgbridge.BackfillProgress.State.DONE);
            assertThat(writes.get() - writesAtStart)
                    .as("writes committed while the backfill ran")
                    .isPositive();
            assertThat(bridge.stats().backfills())
                    .as("stats().backfills()")
                    .singleElement()
                    .satisfies(p -> {
                        assertThat(p.table()).isEqualTo(table);
                        assertThat(p.rows())
                                .as(
                                        "rows read, of %s matching at the start, while writers delete and insert",
                                        p.totalRows())
                                .isCloseTo(p.totalRows(), org.assertj.core.data.Percentage.withPercentage(20));
                        assertThat(p.chunks())
                                .as("chunks of %s rows", p.rows())
                                .isEqualTo(p.rows() / InitialSnapshot.CHUNK_ROWS + 1);
                        assertThat(p.percent()).isEqualTo(100.0);
                        assertThat(p.rowsPerSecond()).isPositive();
                    });
            assertThat(recordState(db.slot + "/backfill/" + table)).as("record").isEqualTo("done");
            assertThat(registry.get("pgbridge.backfill.rows")
                            .tag("source", "wal")
                            .tag("table", table)
                            .gauge()
                            .value())
                    .as("meter pgbridge.backfill.rows")
                    .isEqualTo(done.rows());
            assertThat(registry.get("pgbridge.backfill.total.rows")
                            .tag("table", table)
                            .gauge()
                            .value())
                    .isEqualTo(done.totalRows());
            assertThat(registry.get("pgbridge.backfill.chunks")
                            .tag("table", table)
                            .gauge()
                            .value())
                    .isEqualTo(done.chunks());
            assertThat(registry.get("pgbridge.backfill.percent")
                            .tag("table", table)
                            .gauge()
                            .value())
                    .isEqualTo(100.0);
            assertThat(registry.get("pgbridge.backfill.rate")
                            .tag("table", table)
                            .gauge()
                            .value())
                    .isPositive();
            assertThat(registry.get("pgbridge.backfill.state")
                            .tag("table", table)
                            .tag("state", "done")
                            .gauge()
                            .value())
                    .isEqualTo(1);
            assertThat(registry.get("pgbridge.backfill.state")
                            .tag("table", table)
                            .tag("state", "running")
                            .gauge()
                            .value())
                    .isZero();
            stopWriters();
            awaitRebuilt(() -> payloads(channel(sink.events(), table)));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> channel(sink.events(), other).size() >= otherRows.get());
            assertThat(channel(sink.events(), other))
                    .as("the other table's inserts, streamed while the backfill ran")
                    .hasSize((int) otherRows.get());
            long reads = 0;
            for (String p : payloads(channel(sink.events(), table))) {
                if (WalFixture.JSON.readTree(p).get("op").asText().equals("r")) {
                    reads++;
                }
            }
            System.out.println("WalSnapshotIT (backfill): " + reads + " rows backfilled in " + done.chunks()
                    + " chunks at " + Math.round(done.rowsPerSecond()) + " rows/s, " + writes.get() + " writes, "
                    + otherRows.get() + " rows of the other table streamed in all; the other table's latency "
                    + "(delivery - commit), before the backfill: " + latencies.describe(baselineFrom, backfillFrom)
                    + "; while it ran: " + latencies.describe(backfillFrom, backfillTo));
        }
    }

    @Test
    void backfillWithAFilterReadsOnlyItsRowsAndCanBeCancelled() throws Exception {
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = db.bridge(table + "->queue:items", sink).build()) {
            bridge.start();
            io.pgbridge.BackfillTask some = bridge.backfill(table, "id <= 3000 AND id % 2 = 0");
            assertThat(some.await(Duration.ofSeconds(60)))
                    .as("filtered backfill ended")
                    .isTrue();
            assertThat(some.progress().state()).isEqualTo(io.pgbridge.BackfillProgress.State.DONE);
            assertThat(some.progress().totalRows()).isEqualTo(1500);
            await().atMost(Duration.ofSeconds(30)).until(() -> sink.events().size() >= 1500);
            Set<Long> ids = new HashSet<>();
            for (String p : sink.payloads()) {
                JsonNode e = WalFixture.JSON.readTree(p);
                assertThat(e.get("op").asText()).isEqualTo("r");
                ids.add(e.get("key").get("id").asLong());
            }
            assertThat(ids).hasSize(1500).allMatch(id -> id <= 3000 && id % 2 == 0);

            io.pgbridge.BackfillTask all = bridge.backfill(table);
            await().atMost(Duration.ofSeconds(30)).until(() -> all.progress().chunks() >= 1);
            all.cancel();
            assertThat(all.await(Duration.ofSeconds(30)))
                    .as("cancelled backfill ended")
                    .isTrue();
            assertThat(all.progress().state()).isEqualTo(io.pgbridge.BackfillProgress.State.CANCELLED);
            assertThat(all.progress().rows()).as("stopped early").isLessThan(ROWS);
            assertThat(recordState(db.slot + "/backfill/" + table)).isEqualTo("cancelled");
        }
    }

    @Test
    void bridgeKilledInTheMiddleOfABackfillResumesIt() throws Exception {
        Path first = dir.resolve("first.ledger");
        Path second = dir.resolve("second.ledger");
        Path log = dir.resolve("child.log");
        String routes = table + "->queue:items";
        String key = db.slot + "/backfill/" + table;
        startWriters(); // changes before the bridge creates its slot are not streamed: the backfill reads them
        Process child = WalChild.start(
                log,
                List.of("-Xmx128m", "-Dpgbridge.test.ledger-delay-ms=20", "-Dpgbridge.test.backfill=" + table),
                TestServices.postgresUrl(),
                db.slot,
                routes,
                first.toString(),
                "-1",
                "buffer.max-events=2000");
        Process resumed = null;
        try {
            await().atMost(LONG).until(() -> recordChunk(key) >= 3);
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child killed").isTrue();
            assertThat(recordState(key))
                    .as("killed in the middle of the backfill")
                    .isEqualTo("reading");
            long chunkAtKill = recordChunk(key);
            resumed = WalChild.start(
                    log, List.of("-Xmx128m"), TestServices.postgresUrl(), db.slot, routes, second.toString(), "-1");
            await().atMost(LONG).until(() -> "done".equals(recordState(key)));
            stopWriters();
            await().atMost(LONG).until(() -> rebuild(ledgers(first, second)).equals(tableState()));
            assertThat(difference(rebuild(ledgers(first, second))))
                    .as("the table rebuilt from the events of both bridges")
                    .isEmpty();
            assertThat(Files.readString(log))
                    .as("the second bridge says it resumes")
                    .contains("resumes after chunk " + chunkAtKill);
            long again = assertStableIds(first, second);
            System.out.println("WalSnapshotIT (backfill SIGKILL): killed after chunk " + chunkAtKill + " was recorded; "
                    + lines(first).size() + " events before the kill, "
                    + lines(second).size() + " after, "
                    + writes.get() + " writes, " + again + " rows sent again with their earlier event id");
        } finally {
            child.destroyForcibly();
            if (resumed != null) {
                resumed.destroy();
                resumed.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void backfillRefusesWhatItCannotReadByName() throws Exception {
        db.exec(
                "CREATE TABLE " + db.schema + ".nokey (v int)",
                "ALTER TABLE " + db.schema + ".nokey REPLICA IDENTITY FULL");
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = db.bridge(table + "->queue:items, " + db.schema + ".nokey->queue:nokey", sink)
                .build()) {
            bridge.start();
            assertThatThrownBy(() -> bridge.backfill(db.schema + ".nokey"))
                    .isInstanceOf(SchemaException.class)
                    .hasMessageContaining("no primary key");
            assertThatThrownBy(() -> bridge.backfill(table, "no_such_column > 1"))
                    .isInstanceOf(SchemaException.class)
                    .hasMessageContaining("no_such_column");
            assertThatThrownBy(() -> bridge.backfill(db.schema + ".unrouted"))
                    .isInstanceOf(io.pgbridge.ConfigurationException.class)
                    .hasMessageContaining("no route takes");
            assertThatThrownBy(() -> bridge.backfill("items"))
                    .isInstanceOf(io.pgbridge.ConfigurationException.class)
                    .hasMessageContaining("schema.table");
        }
    }

    @Test
    void bridgeKilledInTheMiddleOfTheSnapshotResumesIt() throws Exception {
        Path first = dir.resolve("first.ledger");
        Path second = dir.resolve("second.ledger");
        Path log = dir.resolve("child.log");
        String routes = table + "->queue:items";
        startWriters();
        Process child = WalChild.start(
                log,
                List.of("-Xmx128m", "-Dpgbridge.test.ledger-delay-ms=20"),
                TestServices.postgresUrl(),
                db.slot,
                routes,
                first.toString(),
                "-1",
                "wal.snapshot=initial",
                "buffer.max-events=2000");
        Process resumed = null;
        try {
            await().atMost(LONG).until(() -> lines(first).size() >= ROWS / 5);
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child killed").isTrue();
            assertThat(snapshotState())
                    .as("killed in the middle of the snapshot")
                    .isEqualTo("reading");
            resumed = WalChild.start(
                    log,
                    List.of("-Xmx128m"),
                    TestServices.postgresUrl(),
                    db.slot,
                    routes,
                    second.toString(),
                    "-1",
                    "wal.snapshot=initial");
            await().atMost(LONG).until(() -> "done".equals(snapshotState()));
            stopWriters();
            await().atMost(LONG).until(() -> rebuild(ledgers(first, second)).equals(tableState()));
            assertThat(rebuild(ledgers(first, second)))
                    .as("the table rebuilt from the events of both bridges")
                    .isEqualTo(tableState());
            assertThat(Files.readString(log))
                    .as("the second bridge says it resumes")
                    .contains("resumes after chunk");
            long again = assertStableIds(first, second);
            System.out.println("WalSnapshotIT (SIGKILL): " + lines(first).size() + " events before the kill, "
                    + lines(second).size() + " after, " + writes.get() + " writes, " + again
                    + " rows sent again with their earlier event id");
        } finally {
            child.destroyForcibly();
            if (resumed != null) {
                resumed.destroy();
                resumed.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * The snapshot's reading transaction is terminated in its middle. The sink starts unavailable, so the snapshot
     * stops once the buffer is full, with its reading transaction open: the termination lands before the snapshot is
     * done however fast the machine reads (polling a running snapshot for it lost the race in CI once the snapshot
     * read 50,000 rows in under half a second).
     */
    @Test
    void readingConnectionTerminatedMidSnapshotGoesOn() throws Exception {
        InMemorySink sink = new InMemorySink();
        sink.setAvailable(false);
        startWriters();
        try (PgBridge bridge = db.bridge(table + "->queue:items", sink)
                .setting("wal.snapshot", "initial")
                .setting("buffer.max-events", "5000")
                .build()) {
            bridge.start();
            // the backend of the snapshot's reading transaction: its chunk queries read this table through alias r
            boolean terminated = false;
            try (PreparedStatement ps = db.sql.prepareStatement("SELECT pg_terminate_backend(pid) FROM "
                    + "pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE ?")) {
                ps.setString(1, "%FROM \"" + db.schema + "\".\"items\" AS r%");
                while (!terminated && !"done".equals(snapshotState())) {
                    try (ResultSet rs = ps.executeQuery()) {
                        terminated = rs.next() && rs.getBoolean(1);
                    }
                }
            }
            assertThat(terminated)
                    .as("the reading transaction terminated before the snapshot was done")
                    .isTrue();
            sink.setAvailable(true);
            await().atMost(LONG).until(() -> "done".equals(snapshotState()));
            stopWriters();
            awaitRebuilt(() -> payloads(sink.events()));
        }
    }

    @Test
    void aTableWithoutPrimaryKeyIsRefusedByName() throws Exception {
        db.exec(
                "CREATE TABLE " + db.schema + ".loose (a int, b text)",
                "ALTER TABLE " + db.schema + ".loose REPLICA IDENTITY FULL");
        try (PgBridge bridge = db.bridge(db.schema + ".loose->queue:loose", new InMemorySink())
                .setting("wal.snapshot", "initial")
                .build()) {
            assertThatThrownBy(bridge::start)
                    .isInstanceOf(SchemaException.class)
                    .hasMessageContaining(db.schema + ".loose has no primary key")
                    .hasMessageContaining("ADD PRIMARY KEY")
                    .hasMessageContaining("wal.snapshot=never");
        }
        assertThat(db.confirmedFlush()).as("no slot created").isEqualTo(-1);
    }

    @Test
    void initialOnlyReadsTheTableAndCreatesNoSlot() throws Exception {
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = db.bridge(table + "->queue:items", sink)
                .setting("wal.snapshot", "initial-only")
                .build()) {
            bridge.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> "done".equals(snapshotState()));
            awaitRebuilt(() -> payloads(sink.events()));
            assertThat(db.confirmedFlush()).as("no slot created").isEqualTo(-1);
        }
    }

    /** Waits until the events rebuild the table, then asserts it: no missing row, no stale row, no deleted row. */
    /** Starts the writers and a bridge snapshotting the table into {@code sink}; returns it once an event arrived. */
    private PgBridge snapshotUnderWriters(InMemorySink sink) {
        startWriters();
        PgBridge bridge = db.bridge(table + "->queue:items", sink)
                .setting("wal.snapshot", "initial")
                .build();
        try {
            bridge.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> !sink.events().isEmpty());
            return bridge;
        } catch (RuntimeException | Error e) {
            bridge.close();
            throw e;
        }
    }

    private void awaitRebuilt(java.util.concurrent.Callable<List<String>> events) throws Exception {
        try {
            await().atMost(LONG).until(() -> difference(rebuild(events.call())).isEmpty());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // the assertion below says what differs
        }
        assertThat(difference(rebuild(events.call())))
                .as("the table rebuilt from the events (last event of each row)")
                .isEmpty();
    }

    private void startWriters() {
        for (int w = 0; w < WRITERS; w++) {
            Thread t = new Thread(this::write, "snapshot-it-writer-" + w);
            t.start();
            writers.add(t);
        }
    }

    private void stopWriters() throws InterruptedException {
        writing.set(false);
        for (Thread t : writers) {
            t.join(30_000);
        }
    }

    /** Updates, deletes and inserts random rows, one transaction each, until stopped. */
    private void write() {
        String next = "nextval('" + db.schema + ".versions')";
        try (Connection c = TestServices.postgresConnection();
                PreparedStatement update = c.prepareStatement(
                        "UPDATE " + table + " SET version = " + next + ", note = md5(random()::text) WHERE id = ?");
                PreparedStatement delete = c.prepareStatement("DELETE FROM " + table + " WHERE id = ?");
                PreparedStatement insert = c.prepareStatement("INSERT INTO " + table + " VALUES (?, " + next
                        + ", 'new') ON CONFLICT (id) DO UPDATE SET version = excluded.version")) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (writing.get()) {
                long id = random.nextLong(1, ROWS + ROWS / 10);
                int op = random.nextInt(10);
                PreparedStatement ps = op < 6 ? update : op < 8 ? delete : insert;
                ps.setLong(1, id);
                ps.executeUpdate();
                writes.incrementAndGet();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A sink that passes everything on and notes, for the events of one channel, when each was delivered and how long
     * after its commit (milliseconds).
     */
    static final class LatencySink implements io.pgbridge.spi.Sink {
        final io.pgbridge.spi.Sink next;
        final String channel;
        final List<long[]> samples = new ArrayList<>(); // {delivered at (nanoTime), latency ms}

        LatencySink(io.pgbridge.spi.Sink next, String channel) {
            this.next = next;
            this.channel = channel;
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
        public io.pgbridge.spi.PublishResult publish(io.pgbridge.Target target, List<Event> events)
                throws InterruptedException {
            io.pgbridge.spi.PublishResult result = next.publish(target, events);
            long now = System.nanoTime();
            long wall = System.currentTimeMillis();
            synchronized (samples) {
                for (Event e : events) {
                    if (e.channel().equals(channel) && e.commitTime() != null) {
                        samples.add(new long[] {now, wall - e.commitTime().toEpochMilli()});
                    }
                }
            }
            return result;
        }

        @Override
        public void close() {
            next.close();
        }

        /** The latencies (ms) of the events delivered in [from, to), sorted. */
        List<Long> latencies(long from, long to) {
            synchronized (samples) {
                return samples.stream()
                        .filter(s -> s[0] >= from && s[0] < to)
                        .map(s -> s[1])
                        .sorted()
                        .toList();
            }
        }

        /** The p99 latency (ms) of the events delivered in [from, to); {@link Long#MAX_VALUE} when there is none. */
        long p99(long from, long to) {
            List<Long> ms = latencies(from, to);
            return ms.isEmpty() ? Long.MAX_VALUE : ms.get((int) (ms.size() * 0.99));
        }

        /** "n events, p50 x ms, p99 y ms" of the events delivered in [from, to). */
        String describe(long from, long to) {
            List<Long> ms = latencies(from, to);
            return ms.isEmpty()
                    ? "no events"
                    : ms.size() + " events, p50 " + ms.get(ms.size() / 2) + " ms, p99 " + p99(from, to) + " ms";
        }
    }

    private String recordState(String key) {
        try (PreparedStatement ps =
                db.sql.prepareStatement("SELECT state FROM " + SnapshotStore.TABLE + " WHERE slot = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            return null; // the table is created when the bridge starts
        }
    }

    private long recordChunk(String key) {
        try (PreparedStatement ps =
                db.sql.prepareStatement("SELECT chunk FROM " + SnapshotStore.TABLE + " WHERE slot = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        } catch (SQLException e) {
            return -1; // the table is created when the bridge starts
        }
    }

    private static List<Event> channel(List<Event> events, String channel) {
        return events.stream().filter(e -> e.channel().equals(channel)).toList();
    }

    private String snapshotState() throws SQLException {
        try (PreparedStatement ps =
                db.sql.prepareStatement("SELECT state FROM " + SnapshotStore.TABLE + " WHERE slot = ?")) {
            ps.setString(1, db.slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            return null; // the table is created when the bridge starts
        }
    }

    /** What differs between the rebuilt rows and the table: a short description, empty when nothing does. */
    private String difference(Map<Long, Long> rebuilt) throws SQLException {
        Map<Long, Long> table = tableState();
        List<String> d = new ArrayList<>();
        int missing = 0;
        int stale = 0;
        int extra = 0;
        for (Map.Entry<Long, Long> row : table.entrySet()) {
            Long got = rebuilt.get(row.getKey());
            if (got == null) {
                missing++;
            } else if (!got.equals(row.getValue())) {
                stale++;
            }
            if (!row.getValue().equals(got) && d.size() < 10) {
                d.add(row.getKey() + ": table " + row.getValue() + ", events " + got);
            }
        }
        for (Long id : rebuilt.keySet()) {
            if (!table.containsKey(id)) {
                extra++;
                if (d.size() < 10) {
                    d.add(id + ": not in the table, events " + rebuilt.get(id));
                }
            }
        }
        return missing + extra + stale == 0
                ? ""
                : missing + " missing, " + stale + " stale, " + extra + " deleted rows present (of " + table.size()
                        + "); " + d;
    }

    private Map<Long, Long> tableState() throws SQLException {
        Map<Long, Long> rows = new HashMap<>();
        try (Statement st = db.sql.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, version FROM " + table)) {
            while (rs.next()) {
                rows.put(rs.getLong(1), rs.getLong(2));
            }
        }
        return rows;
    }

    /** Id to version after applying every event in order: the last event of a row wins, a delete removes it. */
    private static Map<Long, Long> rebuild(List<String> payloads) throws IOException {
        Map<Long, Long> rows = new HashMap<>();
        for (String p : payloads) {
            JsonNode e = WalFixture.JSON.readTree(p);
            String op = e.get("op").asText();
            long id = e.get("key").get("id").asLong();
            if (op.equals("delete")) {
                rows.remove(id);
            } else {
                rows.put(id, e.get("new").get("version").asLong());
            }
        }
        return rows;
    }

    private static List<String> payloads(List<Event> events) {
        List<String> payloads = new ArrayList<>(events.size());
        for (Event e : events) {
            payloads.add(e.payloadAsString());
        }
        return payloads;
    }

    /**
     * Every {@code r} event's id in the ledgers names one row, and a row sent again (by the resumed bridge, or a
     * retry) carries the id it had before, so that a consumer can deduplicate on it. Returns how many were sent again.
     */
    private static long assertStableIds(Path... files) throws IOException {
        Map<String, Long> rowById = new HashMap<>();
        Map<Long, String> idByRow = new HashMap<>();
        long again = 0;
        for (Path f : files) {
            for (String line : lines(f)) {
                String[] parts = line.split("\t", 3);
                JsonNode e = WalFixture.JSON.readTree(parts[2]);
                if (!e.get("op").asText().equals("r")) {
                    continue;
                }
                long row = e.get("key").get("id").asLong();
                assertThat(rowById.computeIfAbsent(parts[0], id -> row))
                        .as("rows sharing event id %s", parts[0])
                        .isEqualTo(row);
                String earlier = idByRow.putIfAbsent(row, parts[0]);
                if (earlier != null) {
                    again++;
                    assertThat(parts[0])
                            .as("event id of row %s sent again", row)
                            .isEqualTo(earlier);
                }
            }
        }
        return again;
    }

    private static List<String> ledgers(Path... files) throws IOException {
        List<String> payloads = new ArrayList<>();
        for (Path f : files) {
            for (String line : lines(f)) {
                payloads.add(line.split("\t", 3)[2]);
            }
        }
        return payloads;
    }

    /** The lines a child finished writing (it may have been killed in the middle of the last one). */
    private static List<String> lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> complete = new ArrayList<>();
        for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
            if (line.split("\t", 3).length == 3) {
                complete.add(line);
            }
        }
        return complete;
    }
}
