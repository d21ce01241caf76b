package io.pgbridge;

import java.time.Duration;

/**
 * A running online backfill of one table, returned by {@link PgBridge#backfill(String, String)}. Thread-safe.
 *
 * <p>The backfill re-sends the table's rows as {@code op: "r"} events through the table's WAL route while streaming
 * goes on, chunk by chunk in primary-key order, between a low and a high watermark written into the WAL; a row changed
 * inside its chunk's window is left to its change event. The last event for every row carries its latest committed
 * value. See {@code docs/wal.md}, "Online backfill".
 */
public interface BackfillTask {

    /** The backfill's id, {@code <slot>/backfill/<schema.table>}. */
    String id();

    /** Where it stands now. */
    BackfillProgress progress();

    /**
     * Stops the backfill after the chunk in flight (rows already handed over are still delivered) and records it as
     * cancelled, so that it is not resumed. Does nothing once it ended. Does not block.
     */
    void cancel();

    /**
     * Waits until the backfill ended (done, cancelled, failed or stopped).
     *
     * @return whether it ended within {@code timeout}
     * @throws InterruptedException when the calling thread is interrupted while waiting
     */
    boolean await(Duration timeout) throws InterruptedException;
}
