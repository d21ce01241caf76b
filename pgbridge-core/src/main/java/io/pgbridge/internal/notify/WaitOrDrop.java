package io.pgbridge.internal.notify;

import java.time.Duration;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * Whether the NOTIFY source waits for room in a full pipeline or drops the notification. The rule, proved by
 * {@code WaitOrDropPropertyTest}:
 *
 * <p><b>The source waits for room only while the pipeline has refused notifications for less than {@code maxWait} in
 * a row (since it last took one) and PostgreSQL's notification queue, measured at most {@link #USAGE_MAX_AGE} before,
 * is less than {@code maxQueueUsage} full; otherwise it drops the notification and counts it.</b>
 *
 * <p>Why: while the source waits it does not read, so notifications pile up in PostgreSQL's notification queue, one
 * per cluster and shared with every application, whose filling makes other sessions' {@code NOTIFY} fail at commit
 * (NOTIFY reference page; {@code pg_notification_queue_usage()}, System Information Functions). Waiting absorbs the
 * bursts that fill the pipeline for milliseconds; the bound on the wait drops instead when sinks are down, and the
 * bound on the queue drops instead when sinks are slower than the notifications for long. An unknown queue usage
 * ({@link Double#NaN}: the measurement failed) counts as full. The LISTEN connection is neither read nor probed while
 * the source waits, so the wait bound also bounds how much later than usual a dead connection is noticed.
 *
 * <p>Used by the listener thread only; not thread-safe.
 */
final class WaitOrDrop {
    /** The oldest measurement of the queue usage a wait may rely on: 1 s; longer waits are cut into slices. */
    static final Duration USAGE_MAX_AGE = Duration.ofSeconds(1);

    private static final long SLICE_NANOS = USAGE_MAX_AGE.toNanos();

    private final long maxWaitNanos;
    private final double maxQueueUsage;
    private final LongSupplier nanoClock;
    private boolean refused; // whether the pipeline refused the last notification offered
    private long refusedSince; // nanoClock time of the first refusal in a row

    /**
     * The pipeline's side of a hand-over. The notification is a parameter, not captured, so that one instance serves
     * every hand-over (a capturing lambda per notification was an allocation on the listener's hot path).
     */
    @FunctionalInterface
    interface Offer<T> {
        /** Offers {@code item}, waiting at most {@code timeoutNanos} for room; returns whether it was taken. */
        boolean offer(T item, long timeoutNanos) throws InterruptedException;
    }

    /**
     * @param maxWait the longest run of refusals the source waits through; zero drops at once
     * @param maxQueueUsage the fraction of PostgreSQL's notification queue (0 to 1) from which the source drops
     * @param nanoClock {@link System#nanoTime()}, or a test's clock
     */
    WaitOrDrop(Duration maxWait, double maxQueueUsage, LongSupplier nanoClock) {
        this.maxWaitNanos = maxWait.toNanos();
        this.maxQueueUsage = maxQueueUsage;
        this.nanoClock = nanoClock;
    }

    /**
     * Hands one notification over: at once when there is room, else waiting as the rule allows.
     *
     * @param item the notification, passed to {@code pipeline}
     * @param queueUsage as for {@link #waitNanos}
     * @return whether the pipeline took it; {@code false}: drop it
     * @throws InterruptedException when the listener thread is interrupted while waiting (the source stops)
     */
    <T> boolean handOver(T item, Offer<T> pipeline, DoubleSupplier queueUsage) throws InterruptedException {
        if (pipeline.offer(item, 0)) {
            refused = false;
            return true;
        }
        long now = nanoClock.getAsLong();
        if (!refused) {
            refused = true;
            refusedSince = now;
        }
        for (long wait; (wait = waitNanos(now - refusedSince, queueUsage)) > 0; now = nanoClock.getAsLong()) {
            if (pipeline.offer(item, wait)) {
                refused = false;
                return true;
            }
        }
        return false;
    }

    /**
     * How long the source may wait now for room for the notification in hand.
     *
     * @param refusedForNanos for how long the pipeline has refused notifications in a row (0 at the first refusal)
     * @param queueUsage measures PostgreSQL's notification queue usage (0 to 1, or NaN when unknown), asked only when
     *     the wait bound leaves time; the measurement must be at most {@link #USAGE_MAX_AGE} old
     * @return nanoseconds to wait, at most {@link #USAGE_MAX_AGE} (then ask again); 0: drop the notification
     */
    long waitNanos(long refusedForNanos, DoubleSupplier queueUsage) {
        long left = maxWaitNanos - refusedForNanos;
        if (left <= 0) {
            return 0;
        }
        double usage = queueUsage.getAsDouble();
        if (!(usage < maxQueueUsage)) {
            return 0;
        }
        return Math.min(left, SLICE_NANOS);
    }
}
