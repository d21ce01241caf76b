package io.pgbridge.internal.wal;

import io.pgbridge.BackfillProgress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Where a chunked read of tables stands, the initial snapshot's ({@link InitialSnapshot}) or an online backfill's
 * ({@link Backfill}): the one place that turns the chunks handed over into a {@link BackfillProgress} (the stats entry
 * and the meters) and into the progress line logged every {@link #LOG_EVERY}.
 *
 * <p>Percent is rows read of the rows counted at the start (100 once done, at most 100 before: rows inserted while it
 * reads may make it read more than it counted); the rate counts the rows this bridge read since it started or resumed
 * the read, not those a previous bridge recorded. Threading: the reading thread writes it ({@link #handed}, {@link
 * #total}, {@link #state}) and logs; any thread reads {@link #progress()}.
 */
final class ReadProgress {
    /** How often the progress line is logged while the read goes on. */
    static final Duration LOG_EVERY = Duration.ofSeconds(10);

    private final String subject;
    private final String id;
    private final List<String> tables;
    private final String filter;
    private final LongSupplier nanoTime;
    private final Instant startedAt;
    private final long startNanos;
    private final long startRows;
    private volatile InitialSnapshot.Progress handed;
    private volatile long totalRows;
    private volatile BackfillProgress.State state = BackfillProgress.State.RUNNING;
    private volatile String reason;
    // reading thread only: when the last progress line was logged, and the rows read then
    private long loggedNanos;
    private long loggedRows;

    /**
     * @param subject how the log lines name the read: {@code Backfill <id>}, {@code Initial snapshot for slot <slot>}
     * @param id the key of its record in {@link SnapshotStore#TABLE}: the slot for the initial snapshot, {@code
     *     <slot>/backfill/<schema.table>} for a backfill
     * @param tables the tables it reads, in reading order ({@link InitialSnapshot.Progress#table()} indexes them)
     * @param filter a backfill's filter, {@code null} for none
     * @param from the progress it starts or resumes from ({@link InitialSnapshot.Progress#START} for a new read)
     * @param totalRows the rows counted at the start, 0 until counted ({@link #total})
     * @param nanoTime the clock of the rate and of the log interval, {@link System#nanoTime} but in tests
     */
    ReadProgress(
            String subject,
            String id,
            List<String> tables,
            String filter,
            InitialSnapshot.Progress from,
            long totalRows,
            LongSupplier nanoTime) {
        this.subject = subject;
        this.id = id;
        this.tables = List.copyOf(tables);
        this.filter = filter;
        this.nanoTime = nanoTime;
        this.startedAt = Instant.now();
        this.startNanos = nanoTime.getAsLong();
        this.startRows = from.rows();
        this.handed = from;
        this.totalRows = totalRows;
        this.loggedNanos = startNanos;
        this.loggedRows = from.rows();
    }

    /** The chunks handed over so far. */
    InitialSnapshot.Progress handed() {
        return handed;
    }

    /** Another chunk was handed over. */
    void handed(InitialSnapshot.Progress progress) {
        handed = progress;
    }

    /** The rows counted at the start ({@code count(*)} of the tables, with the filter), once counted. */
    void total(long rows) {
        totalRows = rows;
    }

    BackfillProgress.State state() {
        return state;
    }

    /**
     * The read is in state {@code s}, for {@code reason} ({@code null} when none): with {@link
     * BackfillProgress.State#RUNNING}, the failure it retries after, or {@code null} once a chunk succeeded again.
     */
    void state(BackfillProgress.State s, String why) {
        reason = why;
        state = s;
    }

    /** Where the read stands now. Any thread. */
    BackfillProgress progress() {
        InitialSnapshot.Progress p = handed;
        BackfillProgress.State s = state;
        long total = totalRows;
        double seconds = Math.max(1e-3, (nanoTime.getAsLong() - startNanos) / 1e9);
        double percent =
                s == BackfillProgress.State.DONE ? 100 : total <= 0 ? 0 : Math.min(100, 100.0 * p.rows() / total);
        String table = tables.isEmpty() ? "" : tables.get(Math.min(p.table(), tables.size() - 1));
        return new BackfillProgress(
                id,
                table,
                filter,
                s,
                reason,
                p.chunk(),
                p.rows(),
                total,
                percent,
                (p.rows() - startRows) / seconds,
                startedAt);
    }

    /**
     * The progress line, when {@link #LOG_EVERY} passed since the last one (or the start), else {@code null}: rows read
     * of those counted at the start, percent, chunks, the rate since the start and over the last interval, the chunks
     * the sinks have not confirmed yet, and, for a read of several tables, the table it reads. Reading thread.
     *
     * @param awaiting chunks handed over and not yet confirmed by the sinks
     */
    String lineIfDue(int awaiting) {
        long now = nanoTime.getAsLong();
        long interval = now - loggedNanos;
        if (interval < LOG_EVERY.toNanos()) {
            return null;
        }
        BackfillProgress p = progress();
        String line = String.format(
                Locale.ROOT,
                "%s: %d of %d rows (%.1f%%) in %d chunks, %d rows/s (%d rows/s in the last %d s), %d chunk(s) awaiting"
                        + " the sinks' confirmation%s",
                subject,
                p.rows(),
                p.totalRows(),
                p.percent(),
                p.chunks(),
                Math.round(p.rowsPerSecond()),
                Math.round((p.rows() - loggedRows) / (interval / 1e9)),
                TimeUnit.NANOSECONDS.toSeconds(interval),
                awaiting,
                tables.size() > 1 && handed.table() < tables.size() ? "; reading " + p.table() : "");
        loggedNanos = now;
        loggedRows = p.rows();
        return line;
    }

    /** The line logged once every chunk was read and confirmed: rows, chunks, this bridge's rate and time. */
    String doneLine() {
        BackfillProgress p = progress();
        return String.format(
                Locale.ROOT,
                "%s complete: %d rows in %d chunks, %d rows/s over %.1f s, all confirmed",
                subject,
                p.rows(),
                p.chunks(),
                Math.round(p.rowsPerSecond()),
                (nanoTime.getAsLong() - startNanos) / 1e9);
    }
}
