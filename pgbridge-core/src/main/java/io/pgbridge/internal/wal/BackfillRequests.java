package io.pgbridge.internal.wal;

import io.pgbridge.BackfillProgress;
import io.pgbridge.BackfillTask;
import io.pgbridge.internal.Closing;
import io.pgbridge.internal.PgConnector;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.support.Redaction;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes online backfill requests from a table that a running bridge watches ({@code wal.backfill-requests}, default
 * {@code pgbridge.backfill_requests}, created by the pgbridge schema's {@code V7__backfill_requests.sql}; what {@code
 * pgbridge backfill} inserts into), and writes their progress back into it. On a thread of its own ({@code
 * pgbridge-wal-backfill-requests-<slot>}), once every {@link #POLL}:
 *
 * <ol>
 *   <li>the table does not exist: nothing (it is looked for again at the next poll, so a schema installed while the
 *       bridge runs is picked up);
 *   <li>each pending request, oldest first, that names this bridge's slot or none: when no route of this bridge takes
 *       the table, a request naming this slot fails with that reason, one naming no slot is left for another bridge
 *       with the reason added to its {@code declined} list; otherwise it is claimed ({@code pending -> running},
 *       {@code taken_by} = the slot, in one UPDATE that only a pending row passes, so two bridges never both take it)
 *       and the backfill started ({@link WalSource#backfill}); a refusal (no primary key, a bad filter, a backfill of
 *       the table running already) fails it with the refusal's message;
 *   <li>each request it took: its progress (state, rows, chunks, total rows, percent, rows/s, error) written back, and
 *       {@code cancel_requested} passed on to the backfill; a request that ended is no longer polled.
 * </ol>
 *
 * <p>After a restart (or a crash) the requests this slot took and left running or stopped are taken up again:
 * each is attached to the backfill of its table that the source resumed from its record, or ended as its record says
 * (done or cancelled), or failed when there is nothing to resume. Errors reading or writing the table are logged (the
 * first of a run of failures as a warning) and retried at the next poll on a new connection; they never stop the
 * bridge or a backfill.
 */
final class BackfillRequests {
    private static final Logger log = LoggerFactory.getLogger(BackfillRequests.class);
    /** How often the table is read. */
    static final Duration POLL = Duration.ofSeconds(1);

    /** The source, as the requests see it. */
    interface Backfills {
        /**
         * Starts a backfill.
         *
         * @throws io.pgbridge.PgBridgeException when it is refused (the message says why)
         */
        BackfillTask start(String table, String filter);

        /** The latest backfill of {@code table} since the source started (resumed or started), or {@code null}. */
        BackfillTask current(String table);

        /** Whether a route of this bridge takes {@code table}. */
        boolean routed(String table);

        /** The state recorded for the backfill of {@code table} ({@code done}, {@code cancelled}, ...), or null. */
        String recordedState(Connection c, String table) throws SQLException;
    }

    private final String table;
    private final String quoted;
    private final String slot;
    private final PostgresConnector postgres;
    private final Backfills backfills;
    /** The requests this bridge took and still reports on: request id to its backfill. Request thread only. */
    private final Map<Long, BackfillTask> taken = new LinkedHashMap<>();

    private Connection connection;
    private boolean adopted;
    private boolean failing;
    private volatile boolean stopping;
    private Thread thread;

    /**
     * @param table the requests table, {@code schema.table} (checked by {@link WalConfig})
     * @param slot this bridge's replication slot: the {@code slot} a request may name, written as {@code taken_by}
     */
    BackfillRequests(String table, String slot, PostgresConnector postgres, Backfills backfills) {
        this.table = table;
        int dot = table.indexOf('.');
        this.quoted = Identifiers.quote(table.substring(0, dot)) + '.' + Identifiers.quote(table.substring(dot + 1));
        this.slot = slot;
        this.postgres = postgres;
        this.backfills = backfills;
    }

    /**
     * Polls once on the calling thread (so that the requests a previous run of this slot left are taken up again by the
     * time the source has started), then every {@link #POLL} on a thread made by {@code threads}.
     */
    void start(ThreadFactory threads) {
        pollOnce();
        thread = threads.newThread(this::run);
        thread.setName("pgbridge-wal-backfill-requests-" + slot);
        thread.setDaemon(true);
        thread.start();
    }

    /** Takes no more requests; waits for the polling thread to end (at most 10 s). Call before the backfills stop. */
    void stop() throws InterruptedException {
        stopping = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            t.join(10_000);
        }
    }

    /**
     * Writes the requests' last progress (after the backfills stopped: {@code stopped}, or how they ended) and closes
     * the connection. Call after {@link #stop()}, on the thread that stops the source.
     */
    void close() {
        try {
            if (!taken.isEmpty()) {
                report(connection());
            }
        } catch (SQLException e) {
            log.warn("Cannot write the backfill requests' last progress into {}: {}", table, message(e));
        } finally {
            closeConnection();
        }
    }

    private void run() {
        while (!stopping) {
            LockSupport.parkNanos(POLL.toNanos()); // the poll interval; stop() wakes it
            if (!stopping) {
                pollOnce();
            }
        }
    }

    private void pollOnce() {
        try {
            poll();
            if (failing) {
                failing = false;
                log.info("Backfill requests in {} are read again", table);
            }
        } catch (SQLException | RuntimeException e) {
            if (!failing) {
                log.warn(
                        "Cannot read the backfill requests in {} ({}); retried every {} s",
                        table,
                        message(e),
                        POLL.toSeconds());
            } else {
                log.debug("Reading the backfill requests in {} failed again", table, e);
            }
            failing = true;
            closeConnection();
        }
    }

    /** One poll: see the class comment. */
    void poll() throws SQLException {
        Connection c = connection();
        if (!exists(c)) {
            return;
        }
        if (!adopted) {
            adopt(c);
            adopted = true;
        }
        takePending(c);
        cancelRequested(c);
        report(c);
    }

    private boolean exists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, quoted);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** The requests this slot took before a restart: attached to the resumed backfill of their table, or ended. */
    private void adopt(Connection c) throws SQLException {
        Map<Long, String> left = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, table_name FROM " + quoted
                + " WHERE taken_by = ? AND state IN ('running', 'stopped') ORDER BY id")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    left.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        Map<String, Long> newest = new LinkedHashMap<>();
        left.forEach((id, t) -> newest.put(t, id)); // the newest request of each table (ids ascend)
        for (Map.Entry<Long, String> request : left.entrySet()) {
            long id = request.getKey();
            String t = request.getValue();
            boolean newestOfTable = newest.get(t) == id;
            BackfillTask resumed = backfills.current(t);
            if (newestOfTable && resumed != null) {
                taken.put(id, resumed);
                log.info("Backfill request {} ({}) taken up again: its backfill resumed", id, t);
                continue;
            }
            String recorded = backfills.recordedState(c, t);
            if (newestOfTable && ("done".equals(recorded) || "cancelled".equals(recorded))) {
                end(c, id, recorded, null);
            } else {
                end(
                        c,
                        id,
                        "failed",
                        "the bridge on slot " + slot + " restarted and did not resume this backfill"
                                + (recorded == null ? "" : " (its record says " + recorded + ")")
                                + "; see the bridge's log");
            }
        }
    }

    private void takePending(Connection c) throws SQLException {
        record Pending(long id, String table, String filter, String slot, boolean cancel, List<String> declined) {}
        List<Pending> pending = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, table_name, filter, slot, cancel_requested, declined"
                + " FROM " + quoted + " WHERE state = 'pending' AND (slot IS NULL OR slot = ?) ORDER BY id")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Array declined = rs.getArray(6);
                    pending.add(new Pending(
                            rs.getLong(1),
                            rs.getString(2).trim(),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getBoolean(5),
                            declined == null ? List.of() : List.of((String[]) declined.getArray())));
                }
            }
        }
        for (Pending p : pending) {
            if (stopping) {
                return;
            }
            if (p.cancel()) {
                end(c, p.id(), "cancelled", null);
                continue;
            }
            if (!backfills.routed(p.table())) {
                String why = "no route of this bridge takes table " + p.table()
                        + " (a backfill sends the rows through the table's WAL route; route it, channel " + p.table()
                        + ")";
                if (p.slot() != null) {
                    end(c, p.id(), "failed", "slot " + slot + ": " + why);
                } else if (!p.declined().contains(slot + ": " + why)) {
                    decline(c, p.id(), slot + ": " + why);
                }
                continue;
            }
            if (!claim(c, p.id())) {
                continue; // another bridge took it
            }
            String filter = p.filter() == null || p.filter().isBlank() ? null : p.filter();
            try {
                BackfillTask task = backfills.start(p.table(), filter);
                taken.put(p.id(), task);
                log.info(
                        "Backfill request {} taken: {}{}", p.id(), p.table(), filter == null ? "" : " where " + filter);
            } catch (RuntimeException e) { // a refusal (PgBridgeException, IllegalStateException), or a failure
                end(c, p.id(), "failed", String.valueOf(e.getMessage())); // logged there
            }
        }
    }

    private boolean claim(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + quoted + " SET state = 'running', taken_by = ?, "
                + "taken_at = now(), updated_at = now() WHERE id = ? AND state = 'pending'")) {
            ps.setString(1, slot);
            ps.setLong(2, id);
            return ps.executeUpdate() == 1;
        }
    }

    private void decline(Connection c, long id, String why) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + quoted + " SET declined = array_append(declined, ?),"
                + " updated_at = now() WHERE id = ? AND state = 'pending'")) {
            ps.setString(1, why);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }

    private void cancelRequested(Connection c) throws SQLException {
        if (taken.isEmpty()) {
            return;
        }
        try (PreparedStatement ps =
                c.prepareStatement("SELECT id FROM " + quoted + " WHERE id = ANY (?) AND cancel_requested")) {
            ps.setArray(1, c.createArrayOf("bigint", taken.keySet().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    BackfillTask task = taken.get(rs.getLong(1));
                    if (task.progress().state() == BackfillProgress.State.RUNNING) {
                        log.info("Backfill request {} cancelled", rs.getLong(1));
                        task.cancel();
                    }
                }
            }
        }
    }

    /** Writes the progress of every request taken; forgets those whose backfill ended. */
    private void report(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + quoted + " SET state = ?, rows = ?, chunks = ?, "
                + "total_rows = ?, percent = ?, rows_per_second = ?, error = ?, updated_at = now() WHERE id = ?")) {
            List<Long> ended = new ArrayList<>();
            for (Map.Entry<Long, BackfillTask> request : taken.entrySet()) {
                BackfillProgress p = request.getValue().progress();
                ps.setString(1, p.state().name().toLowerCase(Locale.ROOT));
                ps.setLong(2, p.rows());
                ps.setLong(3, p.chunks());
                ps.setLong(4, p.totalRows());
                ps.setDouble(5, p.percent());
                ps.setDouble(6, p.rowsPerSecond());
                ps.setString(7, p.reason());
                ps.setLong(8, request.getKey());
                ps.addBatch();
                if (p.state() != BackfillProgress.State.RUNNING) {
                    ended.add(request.getKey());
                }
            }
            ps.executeBatch();
            ended.forEach(taken::remove);
        }
    }

    private void end(Connection c, long id, String state, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + quoted
                + " SET state = ?, error = ?, updated_at = now() WHERE id = ? AND state IN ('pending', 'running', "
                + "'stopped', 'failed')")) {
            ps.setString(1, state);
            ps.setString(2, error);
            ps.setLong(3, id);
            ps.executeUpdate();
        }
        if (error != null) {
            log.warn("Backfill request {} {}: {}", id, state, error);
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = postgres.connect(PgConnector.SHORT_STATEMENTS);
        }
        return connection;
    }

    private void closeConnection() {
        Closing.quietly(connection, "the backfill requests' connection");
        connection = null;
    }

    private static String message(Exception e) {
        return Redaction.redact(String.valueOf(e.getMessage()));
    }
}
