package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * The outbox never skips a committed event because of what {@code event_fate} answers for a recorded event the
 * replay's reading snapshot does not find (see V5/V6 and {@code OutboxTables.replayAfter}). Its invariant, checked
 * here against PostgreSQL itself: <em>it says {@code aborted} only for a transaction that rolled back, {@code gone}
 * only for an event that was deleted, and {@code wait} only while the transaction is in progress or committed after
 * the reading snapshot was taken</em> — so the replay skips an event only when no consumer may ever see it.
 *
 * <p>Every interleaving of three writers (each {@code send} in an open transaction, then commit or rollback, several
 * events per transaction), deletions by hand of committed events, and a reader that takes a REPEATABLE READ snapshot
 * at any point and asks about every event sent so far (as the replay does: a left join on {@code events}, the fate for
 * a missing row) is compared with the ground truth the test keeps. At the end every writer finishes and a fresh
 * snapshot must decide every event: found, {@code aborted} or {@code gone}, never {@code wait}.
 */
class EventFatePropertyIT {
    private static final TestDatabase db = new TestDatabase();
    private static final int WRITERS = 3;

    @BeforeContainer
    static void migrate() {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
    }

    @AfterContainer
    static void drop() throws SQLException {
        db.dropAll();
    }

    /** One step of an interleaving. */
    sealed interface Step {}

    /** Writer {@code w} sends an event, in its open transaction or a new one. */
    record Send(int w) implements Step {}

    record Commit(int w) implements Step {}

    record Rollback(int w) implements Step {}

    /** An event committed and still present is deleted by hand ({@code n} picks which). */
    record Delete(int n) implements Step {}

    /** The reader ends its transaction, if any, and takes a new snapshot. */
    record Snapshot() implements Step {}

    /** The reader asks about every event sent so far, in its snapshot. */
    record Ask() implements Step {}

    @Provide
    Arbitrary<List<Step>> interleavings() {
        Arbitrary<Integer> writer = Arbitraries.integers().between(0, WRITERS - 1);
        Arbitrary<Step> step = Arbitraries.frequencyOf(
                Tuple.of(4, writer.map(Send::new)),
                Tuple.of(2, writer.map(Commit::new)),
                Tuple.of(1, writer.map(Rollback::new)),
                Tuple.of(1, Arbitraries.integers().between(0, 50).map(Delete::new)),
                Tuple.of(2, Arbitraries.just(new Snapshot())),
                Tuple.of(3, Arbitraries.just(new Ask())));
        return step.list().ofMinSize(1).ofMaxSize(40);
    }

    /** An event sent by a writer: its id, its transaction and that transaction's fate so far. */
    private static final class Sent {
        final long id;
        final String xid;
        final int writer;
        /** null while in progress. */
        Boolean committed;

        Sent(long id, String xid, int writer) {
            this.id = id;
            this.xid = xid;
            this.writer = writer;
        }
    }

    @Property(tries = 150)
    void eventFateSkipsOnlyWhatNoConsumerMayEverSee(
            @ForAll("interleavings") List<Step> steps, @ForAll boolean commitAll) throws SQLException {
        List<Connection> writers = new ArrayList<>();
        try (Connection reader = db.connect();
                Connection admin = db.connect()) {
            for (int w = 0; w < WRITERS; w++) {
                Connection c = db.connect();
                c.setAutoCommit(false);
                writers.add(c);
            }
            reader.setAutoCommit(false);
            reader.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            World world = new World(writers, reader, admin);
            world.snapshot();
            for (Step step : steps) {
                world.apply(step);
            }
            for (int w = 0; w < WRITERS; w++) {
                world.apply(commitAll ? new Commit(w) : new Rollback(w));
            }
            world.snapshot();
            for (String fate : world.ask()) {
                assertThat(fate).as("an event's fate once every writer ended").isNotEqualTo("wait");
            }
            Statistics.collect(world.sent.size() > 5 ? "more than 5 events" : "up to 5 events");
        } finally {
            for (Connection c : writers) {
                c.close();
            }
        }
    }

    /** The connections and the ground truth of one interleaving. */
    private static final class World {
        final List<Connection> writers;
        final Connection reader;
        final Connection admin;
        final List<Sent> sent = new ArrayList<>();
        final Set<Long> deleted = new HashSet<>();
        final boolean[] open = new boolean[WRITERS];
        /** What the reader's snapshot must see: events committed, and events deleted, when it was taken. */
        Set<Long> committedAtSnapshot = Set.of();

        Set<Long> deletedAtSnapshot = Set.of();

        World(List<Connection> writers, Connection reader, Connection admin) {
            this.writers = writers;
            this.reader = reader;
            this.admin = admin;
        }

        void apply(Step step) throws SQLException {
            if (step instanceof Send s) {
                send(s.w());
            } else if (step instanceof Commit c) {
                end(c.w(), true);
            } else if (step instanceof Rollback r) {
                end(r.w(), false);
            } else if (step instanceof Delete d) {
                delete(d.n());
            } else if (step instanceof Snapshot) {
                snapshot();
            } else {
                ask();
            }
        }

        void send(int w) throws SQLException {
            try (Statement st = writers.get(w).createStatement();
                    ResultSet rs = st.executeQuery(
                            "select " + db.schema + ".send('fate', '{}'::jsonb), pg_current_xact_id()::text")) {
                rs.next();
                sent.add(new Sent(rs.getLong(1), rs.getString(2), w));
            }
            open[w] = true;
        }

        void end(int w, boolean commit) throws SQLException {
            if (!open[w]) {
                return;
            }
            if (commit) {
                writers.get(w).commit();
            } else {
                writers.get(w).rollback();
            }
            open[w] = false;
            for (Sent s : sent) {
                if (s.writer == w && s.committed == null) {
                    s.committed = commit;
                }
            }
        }

        void delete(int n) throws SQLException {
            List<Sent> present = sent.stream()
                    .filter(s -> Boolean.TRUE.equals(s.committed) && !deleted.contains(s.id))
                    .toList();
            if (present.isEmpty()) {
                return;
            }
            Sent victim = present.get(n % present.size());
            try (PreparedStatement st = admin.prepareStatement("delete from " + db.schema + ".events where id = ?")) {
                st.setLong(1, victim.id);
                assertThat(st.executeUpdate()).as("event %d deleted", victim.id).isEqualTo(1);
            }
            deleted.add(victim.id);
        }

        void snapshot() throws SQLException {
            reader.commit();
            try (Statement st = reader.createStatement()) {
                st.execute("select 1"); // the first statement takes the transaction's snapshot
            }
            Set<Long> committed = new HashSet<>();
            for (Sent s : sent) {
                if (Boolean.TRUE.equals(s.committed)) {
                    committed.add(s.id);
                }
            }
            committedAtSnapshot = committed;
            deletedAtSnapshot = Set.copyOf(deleted);
        }

        /** Asks about every event sent so far; checks each answer; returns the fates of those not found. */
        List<String> ask() throws SQLException {
            List<String> fates = new ArrayList<>();
            String sql = "select e.id is not null, case when e.id is null then " + db.schema
                    + ".event_fate(r.x, pg_current_snapshot()) end from (select ?::bigint as id, ?::xid8 as x) r"
                    + " left join " + db.schema + ".events e on e.id = r.id";
            for (Sent s : sent) {
                try (PreparedStatement st = reader.prepareStatement(sql)) {
                    st.setLong(1, s.id);
                    st.setString(2, s.xid);
                    try (ResultSet rs = st.executeQuery()) {
                        rs.next();
                        boolean found = rs.getBoolean(1);
                        String fate = rs.getString(2);
                        boolean visible = committedAtSnapshot.contains(s.id) && !deletedAtSnapshot.contains(s.id);
                        assertThat(found)
                                .as("event %d found by the reader's snapshot", s.id)
                                .isEqualTo(visible);
                        if (!found) {
                            assertThat(fate).as("fate of event %d", s.id).isEqualTo(expectedFate(s));
                            fates.add(fate);
                        }
                    }
                }
            }
            return fates;
        }

        /** The fate of an event the reader's snapshot does not find, from the ground truth. */
        private String expectedFate(Sent s) {
            if (s.committed == null) {
                return "wait"; // in progress
            }
            if (!s.committed) {
                return "aborted";
            }
            return committedAtSnapshot.contains(s.id) ? "gone" : "wait"; // committed after the snapshot
        }
    }
}
