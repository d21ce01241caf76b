package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox never skips a committed event: a recorded event missing from the table is decided on from its
 * transaction's status (against real in-progress, committed-but-invisible, committed and aborted transactions), and
 * retention keeps a partition that holds events not delivered yet, saying why in stats().
 */
class OutboxNoSkipIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Longer than the 30 s after which an older version skipped a recorded event it could not see. */
    private static final Duration OLD_GIVE_UP_AND_MORE = Duration.ofSeconds(35);

    private final TestDatabase db = new TestDatabase();
    private final List<PgBridge> bridges = new ArrayList<>();

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
        bridge.start();
        return bridge;
    }

    @Test
    void theFateOfAMissingEventFollowsItsTransactionsStatus() throws Exception {
        try (Connection open = db.connect();
                Statement o = open.createStatement();
                Connection before = db.connect();
                Statement b = before.createStatement();
                Connection aborted = db.connect();
                Statement a = aborted.createStatement()) {
            open.setAutoCommit(false);
            String xid = text(o, "select pg_current_xact_id()::text");
            assertThat(fate(xid, "pg_current_snapshot()")).as("in progress").isEqualTo("wait");
            assertThat(text(
                            o,
                            "select (" + db.schema + ".xid8_of(" + xid + " % 4294967296) = '" + xid + "'::xid8)::text"))
                    .as("xid8_of restores the full id of a 32-bit id")
                    .isEqualTo("true");

            before.setAutoCommit(false);
            b.execute("set transaction isolation level repeatable read");
            String snapshotBeforeCommit = text(b, "select pg_current_snapshot()::text");
            open.commit();
            assertThat(fate(xid, "'" + snapshotBeforeCommit + "'::pg_snapshot"))
                    .as("committed, not visible to a snapshot taken before the commit")
                    .isEqualTo("wait");
            assertThat(fate(xid, "pg_current_snapshot()"))
                    .as("committed and visible (so a missing row was deleted)")
                    .isEqualTo("gone");
            before.commit();

            aborted.setAutoCommit(false);
            String abortedXid = text(a, "select pg_current_xact_id()::text");
            aborted.rollback();
            assertThat(fate(abortedXid, "pg_current_snapshot()"))
                    .as("rolled back")
                    .isEqualTo("aborted");
            // Rows recorded before version 5 have no transaction id: theirs is below the horizon version 6 kept.
            String horizon = text(o, "select xid::text from " + db.schema + ".legacy_replay_horizon");
            long h = Long.parseLong(horizon);
            assertThat(fate(null, "'" + h + ":" + (h + 1) + ":" + h + "'::pg_snapshot"))
                    .as("no transaction id, in a snapshot that still sees the horizon's transaction in progress")
                    .isEqualTo("wait");
            assertThat(fate(null, "pg_current_snapshot()"))
                    .as("no transaction id, in a snapshot to which every transaction up to the horizon is finished")
                    .isEqualTo("unknown");
            assertThatThrownBy(() -> db.execute("insert into " + db.schema + ".replay (stream_id, commit_lsn, ordinal,"
                            + " event_id) values (1, '0/1', 0, 1)"))
                    .as("a replay row recorded without its transaction id")
                    .hasMessageContaining("replay_xid_recorded");
        }
    }

    @Test
    void aRecordedEventInvisibleLongerThanTheOldGiveUpWindowIsWaitedForAndDelivered() throws Exception {
        bridge(new InMemorySink(), Map.of("outbox.mode", "streaming")).close(); // creates the slot
        InMemorySink sink = new InMemorySink();
        try (Connection producer = db.connect();
                Statement p = producer.createStatement();
                Connection rolledBack = db.connect();
                Statement r = rolledBack.createStatement()) {
            rolledBack.setAutoCommit(false);
            long abortedId = number(r, "select " + db.schema + ".send('events', '{\"n\": \"rolled back\"}'::jsonb)");
            String abortedXid = text(r, "select pg_current_xact_id()::text");
            producer.setAutoCommit(false);
            long id = number(p, "select " + db.schema + ".send('events', '{\"n\": \"held\"}'::jsonb)");
            String xid = text(p, "select pg_current_xact_id()::text");
            // What a bridge leaves when it recorded these events for replay (an outage) and was restarted: the rows
            // are there, the events are not visible to the bridge yet. High commit LSNs: the stream leaves them to
            // the replay.
            db.execute("insert into " + db.schema + ".replay (stream_id, commit_lsn, ordinal, event_id, xid) values"
                    + " (1, '7FFFFFF0/0', 0, " + abortedId + ", '" + abortedXid + "'), (1, '7FFFFFF0/0', 1, " + id
                    + ", '" + xid + "')");
            rolledBack.rollback();
            bridge(sink, Map.of("outbox.mode", "streaming"));
            await("the rolled-back event is skipped, the invisible one is waited for")
                    .during(OLD_GIVE_UP_AND_MORE)
                    .atMost(OLD_GIVE_UP_AND_MORE.plus(WAIT))
                    .until(() -> sink.events().isEmpty()
                            && count("select count(*) from " + db.schema + ".replay where event_id = " + id) == 1);
            producer.commit();
        }
        assertThat(sink.await(1, WAIT).get(0).payloadAsString())
                .as("the event delivered once its transaction became visible")
                .isEqualTo("{\"n\": \"held\"}");
        await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".replay") == 0);
        assertThat(sink.events()).as("events delivered").hasSize(1);
    }

    @Test
    void retentionKeepsAPartitionWithUndeliveredEventsAndSaysWhyInStats() throws Exception {
        String old = oldPartition();
        InMemorySink sink = new InMemorySink();
        sink.setAvailable(false);
        PgBridge bridge = bridge(
                sink,
                Map.of(
                        "outbox.mode", "polling",
                        "outbox.retention-days", "7",
                        "outbox.maintenance-interval-ms", "1000"));
        await("stats say why the partition is kept").atMost(WAIT).untilAsserted(() -> assertThat(
                        bridge.stats().sources().get(0).warning())
                .contains(old)
                .contains("3 event(s) of polling streams not delivered yet"));
        assertThat(exists(old))
                .as("partition kept while its events are undelivered")
                .isTrue();
        sink.setAvailable(true);
        sink.await(3, WAIT);
        await("the partition dropped once its events are delivered")
                .atMost(WAIT)
                .until(() -> !exists(old) && bridge.stats().sources().get(0).warning() == null);
    }

    @Test
    void retentionKeepsAPartitionWithEventsRecordedForReplayOrInABacklog() throws Exception {
        String old = oldPartition();
        db.execute("insert into " + db.schema + ".checkpoints (stream_id, slot_name) values (1, 'streamed')");
        List<Long> ids = new ArrayList<>();
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select id from " + db.schema + ".events order by id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        db.execute("insert into " + db.schema + ".replay (stream_id, commit_lsn, ordinal, event_id, xid) values (1,"
                + " '0/1', 0, " + ids.get(0) + ", pg_current_xact_id())");
        assertThat(held()).as("held by a replay record").contains("recorded for replay");
        db.execute("delete from " + db.schema + ".replay; insert into " + db.schema + ".backlog values (1, "
                + ids.get(1) + ")");
        assertThat(held()).as("held by a backlog row").contains("streaming backlog");
        db.execute("delete from " + db.schema + ".backlog");
        assertThat(held())
                .as("streamed events are decoded from the WAL: nothing holds")
                .isEmpty();
        assertThat(count("select " + db.schema + ".drop_partitions(7)"))
                .as("partitions dropped")
                .isEqualTo(1);
        assertThat(exists(old)).isFalse();
    }

    /** A partition ten days old holding three events of stream 1. */
    private String oldPartition() throws SQLException {
        LocalDate day = LocalDate.now(ZoneOffset.UTC).minusDays(10);
        String name = "events_" + day.format(DateTimeFormatter.BASIC_ISO_DATE);
        db.execute("create table " + db.schema + "." + name + " partition of " + db.schema + ".events for values"
                + " from ('" + day + " 00:00+00') to ('" + day.plusDays(1) + " 00:00+00'); insert into " + db.schema
                + ".events (created_at, payload) select '" + day + " 12:00+00', jsonb_build_object('old', g) from"
                + " generate_series(1, 3) g");
        return name;
    }

    private String held() throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            return text(st, "select coalesce(string_agg(reason, '; '), '') from " + db.schema + ".held_partitions(7)");
        }
    }

    private String fate(String xid, String snapshot) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            return text(
                    st,
                    "select " + db.schema + ".event_fate(" + (xid == null ? "null" : "'" + xid + "'") + "::xid8, "
                            + snapshot + ")");
        }
    }

    private boolean exists(String partition) throws SQLException {
        return count("select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where"
                        + " n.nspname = '" + db.schema + "' and c.relname = '" + partition + "'")
                == 1;
    }

    private static String text(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long number(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private long count(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            return number(st, sql);
        }
    }
}
