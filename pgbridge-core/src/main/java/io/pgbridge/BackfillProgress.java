package io.pgbridge;

import java.time.Instant;
import java.util.Objects;

/**
 * One online backfill, or the initial snapshot, at one moment: {@link BackfillTask#progress()}, {@link
 * BridgeStats#backfills()} and {@link BridgeStats#snapshots()}. Both read tables chunk by chunk in primary-key order
 * and record their progress in table {@code pgbridge_snapshot}, so one shape describes both. Immutable.
 *
 * @param id the key of its record in {@code pgbridge_snapshot}: {@code <slot>/backfill/<schema.table>} for a backfill
 *     (one backfill per table and slot at a time), the slot ({@code wal.slot}) for the initial snapshot
 * @param table the table, as {@code schema.table}; for the initial snapshot, which reads every routed table in name
 *     order, the table it reads now (the last one once all are read)
 * @param filter the SQL condition that selects a backfill's rows, {@code null} for all rows (always for the snapshot)
 * @param state running, done, cancelled (a backfill only), failed or stopped
 * @param reason why it failed, or the error a running read retries after; {@code null} otherwise; never contains a
 *     password
 * @param chunks chunks read so far (across restarts: a resumed read goes on counting)
 * @param rows rows read so far (across restarts); a row changed while a backfill's chunk was read is not handed over
 *     by the backfill, its change event carries it
 * @param totalRows the rows to read, counted when this bridge started or resumed the read ({@code count(*)}: with a
 *     backfill's filter; of every routed table for the snapshot, in the slot's exported snapshot when it is new), the
 *     base of {@code percent}; 0 until counted
 * @param percent {@code rows} in percent of {@code totalRows} (0 to 100; 100 once done)
 * @param rowsPerSecond rows read per second since this bridge started or resumed the read
 * @param startedAt when this bridge started or resumed it
 */
public record BackfillProgress(
        String id,
        String table,
        String filter,
        State state,
        String reason,
        long chunks,
        long rows,
        long totalRows,
        double percent,
        double rowsPerSecond,
        Instant startedAt) {

    /** Where a backfill or the initial snapshot stands. */
    public enum State {
        /** Reading chunks, or waiting for the sinks to confirm the last ones. */
        RUNNING,
        /** Every chunk was read and confirmed by the sinks. */
        DONE,
        /**
         * Cancelled ({@link BackfillTask#cancel()}): stops after the chunk in flight and is not resumed. Never the
         * initial snapshot's state.
         */
        CANCELLED,
        /** Stopped by an error ({@code reason}); resumed from its last confirmed chunk on the next start. */
        FAILED,
        /** The bridge is closing: resumed from its last confirmed chunk on the next start. */
        STOPPED
    }

    public BackfillProgress {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(startedAt, "startedAt");
    }
}
