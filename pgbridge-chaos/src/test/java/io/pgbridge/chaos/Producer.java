package io.pgbridge.chaos;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Writes numbered rows in transactions of 1 to 20,000 rows, one transaction at a time (so ids grow in commit order),
 * each to one route, and keeps a ledger of what committed: client-side (the commit returned) and in a table written in
 * the same transaction, which settles the commits whose outcome the client could not know (the connection broke during
 * the commit) and is checked against the client's ledger.
 */
final class Producer implements AutoCloseable {
    /** One committed transaction: rows {@code first..last} of one route. */
    record Commit(int route, long first, long last, long committedAtMillis) {
        long rows() {
            return last - first + 1;
        }
    }

    private final Workload workload;
    private final Random random;
    /** The pause between two transactions: a steady rate, not a flood. */
    static final long PAUSE_MILLIS = 100;

    private final List<Commit> committed = new CopyOnWriteArrayList<>();
    private final List<Commit> inDoubt = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile Throwable failure;
    private long nextId = 1;
    private Connection connection;

    /**
     * @param random the seeded source of transaction sizes and routes
     */
    Producer(Workload workload, Random random) {
        this.workload = workload;
        this.random = random;
        this.thread = new Thread(this::loop, "chaos-producer");
        thread.setDaemon(true);
    }

    /** Creates the ledger table (in the workload's schema). */
    static void createLedger(Connection c, String schema) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + schema
                    + ".chaos_ledger (route int NOT NULL, first_id bigint PRIMARY KEY, last_id bigint NOT NULL)");
        }
    }

    void start() {
        thread.start();
    }

    /**
     * One transaction of {@code rows} rows to {@code route}, from this thread (used before or instead of {@link
     * #start()}).
     *
     * @return whether it committed; {@code false} when the outcome is unknown (settled later from the table)
     */
    boolean transaction(int route, int rows) {
        long first = nextId;
        long last = first + rows - 1;
        nextId = last + 1;
        try {
            if (connection == null || connection.isClosed()) {
                connection = ChaosServices.connect();
                connection.setAutoCommit(false);
            }
        } catch (SQLException e) {
            nextId = first; // nothing was sent: the ids are free again
            connection = null;
            return false;
        }
        try {
            workload.insert(connection, route, first, last);
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO " + workload.schema() + ".chaos_ledger (route, first_id, last_id) VALUES (?, ?, ?)")) {
                ps.setInt(1, route);
                ps.setLong(2, first);
                ps.setLong(3, last);
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            rollbackAndClose(); // not committed: the ids stay unused, a gap the checker does not expect
            return false;
        }
        try {
            connection.commit();
            committed.add(new Commit(route, first, last, System.currentTimeMillis()));
            return true;
        } catch (SQLException e) {
            inDoubt.add(new Commit(route, first, last, System.currentTimeMillis()));
            rollbackAndClose();
            return false;
        }
    }

    private void loop() {
        try {
            while (!stopping) {
                transaction(random.nextInt(workload.routes()), size(random));
                Thread.sleep(PAUSE_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
    }

    /** 1 to 20,000 rows: mostly small transactions, some of a few thousand rows, a few large ones. */
    static int size(Random random) {
        int dice = random.nextInt(100);
        if (dice < 90) {
            return 1 + random.nextInt(100);
        }
        if (dice < 99) {
            return 100 + random.nextInt(1_900);
        }
        return 2_000 + random.nextInt(18_001);
    }

    /** Stops after the transaction under way. */
    void stop() throws InterruptedException {
        stopping = true;
        thread.join();
        if (failure != null) {
            throw new IllegalStateException("the producer failed", failure);
        }
    }

    /**
     * The commits, checked against the ledger table: every client-side commit must be in the table, and a commit in
     * doubt counts when the table has it.
     *
     * @throws IllegalStateException when the table lacks a transaction whose commit returned
     */
    List<Commit> settle(Connection c) throws SQLException {
        Set<Long> inTable = new HashSet<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT first_id FROM " + workload.schema() + ".chaos_ledger")) {
            while (rs.next()) {
                inTable.add(rs.getLong(1));
            }
        }
        List<Commit> all = new ArrayList<>();
        for (Commit commit : committed) {
            if (!inTable.contains(commit.first())) {
                throw new IllegalStateException("PostgreSQL lost a committed transaction: " + commit);
            }
            all.add(commit);
        }
        for (Commit commit : inDoubt) {
            if (inTable.contains(commit.first())) {
                all.add(commit);
            }
        }
        if (inTable.size() != all.size()) {
            throw new IllegalStateException(
                    "the ledger table holds " + inTable.size() + " transactions, the producer knows of " + all.size());
        }
        all.sort((a, b) -> Long.compare(a.first(), b.first()));
        return all;
    }

    int inDoubtCount() {
        return inDoubt.size();
    }

    private void rollbackAndClose() {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (SQLException ignored) {
            // the connection is broken already; the server rolls back what it did not commit
        }
        connection = null;
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        thread.join(60_000);
        rollbackAndClose();
    }
}
