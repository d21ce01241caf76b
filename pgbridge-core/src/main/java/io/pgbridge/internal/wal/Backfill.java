package io.pgbridge.internal.wal;

import io.pgbridge.BackfillProgress;
import io.pgbridge.BackfillTask;
import io.pgbridge.internal.Closing;
import io.pgbridge.internal.pipeline.Backoff;
import io.pgbridge.spi.PostgresConnector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One online backfill of one table, on a thread of its own ({@code pgbridge-wal-backfill-<slot>}), while the reader
 * goes on streaming. Per chunk, in this order (the order {@link BackfillWindows}'s invariant rests on):
 *
 * <ol>
 *   <li>the low watermark: {@code pg_logical_emit_message(false, 'pgbridge.backfill', '<chunk>:low')}. Not
 *       transactional: it needs no transaction id, is written into the WAL at once, and pgoutput sends it where it
 *       lies in the WAL, between the commits before and after it. (A transactional message would be sent at its
 *       transaction's commit, and would need an xid for nothing.)
 *   <li>waits until every transaction in progress after the low watermark has ended: every xid below one taken then
 *       ({@code pg_current_xact_id()}), not only a snapshot's xip, which leaves out the xids at or above its xmax
 *       ({@link #awaitInProgress}): a transaction whose commit record lies before the low watermark in the WAL
 *       may still be invisible for a moment (its commit record is written, and flushed, before it leaves the process
 *       array), and the chunk must see it, since its change came before the window;
 *   <li>reads the chunk ({@code WHERE (pk) > (cursor) ORDER BY pk LIMIT n}, a statement of its own) and offers its rows
 *       to the windows;
 *   <li>the high watermark. The reader hands the rows over just below the high watermark's LSN, without those whose
 *       key changed between the two watermarks ({@link PgOutputEvents}): the ledger seals them there, so the slot
 *       never moves past a row not confirmed.
 * </ol>
 *
 * <p>Resume: the cursor of the newest chunk the ledger acknowledged is recorded ({@link SnapshotStore}, key
 * {@code <slot>/backfill/<table>}); after a crash the backfill goes on after it. Chunks handed over and not recorded
 * are read again: their rows may come twice, never stale (they are read anew, between new watermarks).
 */
final class Backfill implements BackfillTask {
    private static final Logger log = LoggerFactory.getLogger(Backfill.class);
    /** The prefix of the watermark messages. */
    static final String PREFIX = "pgbridge.backfill";

    private static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final String id;
    private final String table;
    private final String filter;
    private final String idPrefix;
    private final PostgresConnector postgres;
    private final BackfillWindows windows;
    private final LongSupplier acknowledged;
    private final SnapshotStore store;
    private final int chunkRows;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final ReadProgress progress;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final ArrayDeque<Pending> unconfirmed = new ArrayDeque<>();
    private final Backoff backoff = new Backoff(Duration.ofMillis(250), Duration.ofSeconds(30));

    private SnapshotTables tables;
    private volatile boolean cancelled;
    private volatile boolean stopping;
    private Thread thread;

    /** A chunk handed over at {@code position}, and the progress to record once the ledger acknowledged it. */
    private record Pending(long position, InitialSnapshot.Progress progress) {}

    /**
     * @param idPrefix the prefix of its rows' event ids ({@link RowIds}), {@code <start LSN>:b:}: recorded when the
     *     backfill starts and kept when it resumes, so that a row sent again after a crash has the same id
     * @param tables the table opened for a live read ({@link SnapshotTables#live}); the backfill closes it
     * @param from the recorded progress to go on from ({@link InitialSnapshot.Progress#START} for a new backfill)
     */
    Backfill(
            String id,
            String table,
            String filter,
            String idPrefix,
            PostgresConnector postgres,
            BackfillWindows windows,
            LongSupplier acknowledged,
            SnapshotStore store,
            SnapshotTables tables,
            InitialSnapshot.Progress from,
            long totalRows,
            int chunkRows) {
        this.id = id;
        this.table = table;
        this.filter = filter;
        this.idPrefix = idPrefix;
        this.postgres = postgres;
        this.windows = windows;
        this.acknowledged = acknowledged;
        this.store = store;
        this.tables = tables;
        this.progress =
                new ReadProgress("Backfill " + id, id, List.of(table), filter, from, totalRows, System::nanoTime);
        this.chunkRows = chunkRows;
    }

    /** Starts reading on a thread made by {@code threads}. */
    void start(ThreadFactory threads, String slot) {
        thread = threads.newThread(this::run);
        thread.setName("pgbridge-wal-backfill-" + slot);
        thread.start();
    }

    @Override
    public String id() {
        return id;
    }

    /** The table, {@code schema.table}. */
    String table() {
        return table;
    }

    @Override
    public BackfillProgress progress() {
        return progress.progress();
    }

    @Override
    public void cancel() {
        cancelled = true;
        LockSupport.unpark(thread);
    }

    @Override
    public boolean await(Duration timeout) throws InterruptedException {
        return ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The bridge closes: stops after the chunk in flight, without recording it as cancelled; waits for the thread. */
    void stop() throws InterruptedException {
        stopping = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            t.join(10_000);
        }
    }

    private boolean going() {
        return !cancelled && !stopping;
    }

    private void run() {
        int failures = 0;
        Connection c = null;
        try {
            InitialSnapshot.Progress handed = progress.handed();
            log.info(
                    "Backfill {}{} {} ({} rows match now)",
                    id,
                    filter == null ? "" : " where " + filter,
                    handed.chunk() == 0
                            ? "starts"
                            : "resumes after chunk " + handed.chunk() + " (" + handed.rows() + " rows)",
                    progress.progress().totalRows());
            while (going() && progress.handed().table() == 0) {
                try {
                    if (c == null) {
                        c = postgres.connect();
                        if (tables == null) {
                            tables = SnapshotTables.live(postgres, table, filter);
                        }
                    }
                    chunk(c);
                    failures = 0;
                    progress.state(BackfillProgress.State.RUNNING, null);
                } catch (SQLException e) {
                    failures++;
                    long delay = backoff.delayMillis(failures);
                    progress.state(BackfillProgress.State.RUNNING, e.getMessage());
                    log.warn(
                            "Backfill {} failed after chunk {} ({}); going on from there in {} ms",
                            id,
                            progress.handed().chunk(),
                            e.getMessage(),
                            delay);
                    Closing.quietly(c, "the backfill's connection");
                    c = null;
                    closeTables();
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(delay)); // backoff; cancel and stop wake it
                }
                recordConfirmed();
                String line = progress.lineIfDue(unconfirmed.size());
                if (line != null) {
                    log.info("{}", line);
                }
            }
            while (going() && !unconfirmed.isEmpty()) {
                recordConfirmed();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // polls the ledger's acknowledgement
            }
            end();
        } catch (RuntimeException e) {
            log.error("Backfill {} failed: {}", id, e.getMessage(), e);
            stateOnExit(BackfillProgress.State.FAILED, e.getMessage());
        } finally {
            Closing.quietly(c, "the backfill's connection");
            closeTables();
            Closing.quietly(store, "the backfill record's connection");
            ended.countDown();
        }
    }

    private void end() {
        if (cancelled) {
            try {
                store.cancelled();
            } catch (SQLException e) {
                log.warn(
                        "Backfill {} is cancelled, but recording that failed ({}): it resumes on the next start",
                        id,
                        e.getMessage());
            }
            progress.state(BackfillProgress.State.CANCELLED, null);
            log.info(
                    "Backfill {} cancelled after chunk {} ({} rows)",
                    id,
                    progress.handed().chunk(),
                    progress.handed().rows());
        } else if (stopping) {
            stateOnExit(BackfillProgress.State.STOPPED, null);
        } else {
            progress.state(BackfillProgress.State.DONE, null);
            log.info("{}", progress.doneLine());
        }
    }

    private void stateOnExit(BackfillProgress.State s, String why) {
        progress.state(s, why);
        if (s == BackfillProgress.State.STOPPED) {
            log.info(
                    "Backfill {} stopped after chunk {}; it resumes from its last confirmed chunk on the next start",
                    id,
                    progress.handed().chunk());
        }
    }

    /** One chunk between its watermarks; returns once the reader handed its rows over (or the backfill stops). */
    private void chunk(Connection c) throws SQLException {
        InitialSnapshot.Progress from = progress.handed();
        long number = from.chunk() + 1;
        String chunk = run + ':' + number;
        windows.expect(chunk, table, tables.keyNames(0), idPrefix);
        try {
            long low = emit(c, chunk + ":low");
            awaitInProgress(c);
            tables.lsn(low);
            List<InitialSnapshot.Row> rows = tables.chunk(0, from.lastKey(), chunkRows);
            windows.offer(chunk, rows);
            emit(c, chunk + ":high");
            long position;
            while ((position = windows.taken(chunk)) < 0) {
                if (stopping) {
                    return; // the reader may stop first: the chunk is read again on the next start
                }
                LockSupport.parkNanos(POLL_NANOS);
            }
            InitialSnapshot.Progress next = rows.size() < chunkRows
                    ? new InitialSnapshot.Progress(number, 1, null, from.rows() + rows.size())
                    : new InitialSnapshot.Progress(
                            number, 0, rows.get(rows.size() - 1).key(), from.rows() + rows.size());
            unconfirmed.add(new Pending(position, next));
            progress.handed(next);
        } finally {
            windows.forget(chunk); // taken already, or given up: its high watermark, if written, is ignored
        }
    }

    /** Writes a watermark into the WAL; returns the LSN after it. */
    private static long emit(Connection c, String content) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(false, ?, ?)::text")) {
            ps.setString(1, PREFIX);
            ps.setString(2, content);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
            }
        }
    }

    /**
     * Waits until every transaction in progress now (after the low watermark) has ended, so that the chunk's query sees
     * every transaction whose commit record precedes the low watermark. "In progress now" is every transaction whose
     * xid is below one taken now ({@code pg_current_xact_id()}, which costs an xid per chunk): not the xip of a
     * snapshot, which lists only the xids below its xmax ({@code latestCompletedXid + 1}), so the newest transaction
     * in progress, one whose commit record is written but which has not ended yet, is missing from it (a chunk then
     * read without waiting for it missed its delete, and resurrected the row). Done when a snapshot's xmin (its oldest
     * xid in progress) is above that xid. A transaction left open (idle in transaction) holds the backfill up: logged
     * every {@link ReadProgress#LOG_EVERY}.
     */
    private void awaitInProgress(Connection c) throws SQLException {
        String bound;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_current_xact_id()::text");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            bound = rs.getString(1);
        }
        long since = System.nanoTime();
        long logged = since;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_snapshot_xmin(s) > ?::xid8, array(SELECT x FROM "
                + "pg_snapshot_xip(s) x WHERE x < ?::xid8)::text FROM pg_current_snapshot() s")) {
            ps.setString(1, bound);
            ps.setString(2, bound);
            while (going()) {
                String running;
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return;
                    }
                    running = rs.getString(2);
                }
                if (System.nanoTime() - logged > ReadProgress.LOG_EVERY.toNanos()) {
                    logged = System.nanoTime();
                    log.warn(
                            "Backfill {} waits {} s for transactions in progress to end (xids below {}: {}): a chunk is"
                                    + " read only once every transaction that was in progress at its low watermark"
                                    + " ended",
                            id,
                            TimeUnit.NANOSECONDS.toSeconds(logged - since),
                            bound,
                            running);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
    }

    /** Records the newest chunk the ledger acknowledged, if any is newer than the last recorded one. */
    private void recordConfirmed() {
        long acked = acknowledged.getAsLong();
        Pending newest = null;
        while (!unconfirmed.isEmpty() && unconfirmed.peek().position() <= acked) {
            newest = unconfirmed.poll();
        }
        if (newest != null) {
            try {
                store.record(newest.progress());
            } catch (SQLException e) {
                unconfirmed.addFirst(newest); // recorded with the next one
                log.warn(
                        "Recording backfill {}'s progress failed ({}); retried with the next chunk",
                        id,
                        e.getMessage());
            }
        }
    }

    private void closeTables() {
        Closing.quietly(tables, "the backfill's reading connection");
        tables = null;
    }
}
