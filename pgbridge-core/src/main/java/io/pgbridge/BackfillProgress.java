package io.pgbridge;

import java.time.Instant;
import java.util.Objects;

/**
 * One online backfill at one moment, from {@link BackfillTask#progress()} and {@link BridgeStats#backfills()}.
 * Immutable.
 *
 * @param id the backfill's id: {@code <slot>/backfill/<schema.table>} (one backfill per table and slot at a time)
 * @param table the table, as {@code schema.table}
 * @param filter the SQL condition that selects the rows, {@code null} for all rows
 * @param state running, done, cancelled or failed
 * @param reason why it failed, {@code null} otherwise; never contains a password
 * @param chunks chunks read so far (across restarts: a resumed backfill goes on counting)
 * @param rows rows read so far (across restarts); a row changed while its chunk was read is not handed over by the
 *     backfill, its change event carries it
 * @param totalRows the rows matching the filter when the backfill started ({@code count(*)}), the base of {@code
 *     percent}
 * @param percent {@code rows} in percent of {@code totalRows} (0 to 100; 100 once done)
 * @param rowsPerSecond rows read per second since this bridge started or resumed the backfill
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

    /** Where a backfill stands. */
    public enum State {
        /** Reading chunks, or waiting for the sinks to confirm the last ones. */
        RUNNING,
        /** Every chunk was read and confirmed by the sinks. */
        DONE,
        /** Cancelled ({@link BackfillTask#cancel()}): stops after the chunk in flight and is not resumed. */
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
