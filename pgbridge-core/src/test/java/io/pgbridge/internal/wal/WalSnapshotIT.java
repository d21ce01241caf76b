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
 * {@code wal.snapshot=initial} against a real PostgreSQL while writers update, delete and insert rows throughout:
 * the events rebuild the table (no missing row, no row whose last event is older than its last committed change),
 * in one bridge and across a SIGKILL of the bridge's JVM in the middle of the snapshot.
 */
class WalSnapshotIT {
    static final int ROWS = 50_000;
    static final int WRITERS = 2;

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
        try (PreparedStatement ps = db.sql.prepareStatement("DELETE FROM " + SnapshotStore.TABLE + " WHERE slot = ?")) {
            ps.setString(1, db.slot);
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
            await().atMost(Duration.ofSeconds(120)).until(() -> "done".equals(snapshotState()));
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
            System.out.println("WalSnapshotIT: " + reads + " rows read in the snapshot, " + (payloads.size() - reads)
                    + " changes streamed, " + writes.get() + " writes");
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
            await().atMost(Duration.ofSeconds(120)).until(() -> lines(first).size() >= ROWS / 5);
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
            await().atMost(Duration.ofSeconds(120)).until(() -> "done".equals(snapshotState()));
            stopWriters();
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> rebuild(ledgers(first, second)).equals(tableState()));
            assertThat(rebuild(ledgers(first, second)))
                    .as("the table rebuilt from the events of both bridges")
                    .isEqualTo(tableState());
            assertThat(Files.readString(log))
                    .as("the second bridge says it resumes")
                    .contains("resumes after chunk");
            System.out.println("WalSnapshotIT (SIGKILL): " + lines(first).size() + " events before the kill, "
                    + lines(second).size() + " after, " + writes.get() + " writes");
        } finally {
            child.destroyForcibly();
            if (resumed != null) {
                resumed.destroy();
                resumed.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void readingConnectionTerminatedMidSnapshotGoesOn() throws Exception {
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = snapshotUnderWriters(sink)) {
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
            await().atMost(Duration.ofSeconds(120)).until(() -> "done".equals(snapshotState()));
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
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> difference(rebuild(events.call())).isEmpty());
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
