package io.pgbridge.internal.replication;

import java.util.concurrent.locks.LockSupport;

/**
 * The flushed LSN a logical replication client reports. The server never sends again what lies below the flushed LSN
 * it was told (walsender.c, ProcessStandbyReplyMessage), so the flushed LSN only ever follows what the pipeline's
 * ledger acknowledged: a position {@code p} acknowledged (sealed, and every event at or below it settled) is flushed as
 * {@code p + 1}, where a restart resumes. The ledger decides; this class only turns its decision into an LSN.
 *
 * <p>When every sealed position is acknowledged and no transaction is open, nothing of this source is in flight, so the
 * position the server last reported (a keepalive, a heartbeat message, transactions no route wants) is flushed too:
 * an idle or filtered database does not hold WAL.
 *
 * <p>Hand-over: the ledger's acknowledgements arrive on delivery threads ({@link #acknowledge}); the reader thread
 * takes them when it computes the flushed LSN ({@link #advance}), and may wait for the next one ({@link
 * #awaitAcknowledged}) instead of polling: an acknowledgement that moves wakes the waiting reader.
 *
 * <p>{@link #acknowledge} and {@link #acknowledged} may be called from any thread; every other method from the reader
 * thread only.
 */
public final class FlushTracker {
    private volatile long acknowledged = Long.MIN_VALUE;
    // the reader thread while it waits in awaitAcknowledged, null otherwise
    private volatile Thread waiter;
    private long sealed = Long.MIN_VALUE;
    private long flushed;

    /** @param flushed where the slot stands ({@code confirmed_flush_lsn}), 0 when unknown */
    public FlushTracker(long flushed) {
        this.flushed = flushed;
    }

    /**
     * The ledger acknowledged {@code position}; wakes the reader if it waits. Thread-safe (the ledger calls it under
     * its lock, so calls never race each other); positions only grow. Never blocks.
     */
    public void acknowledge(long position) {
        if (position > acknowledged) {
            acknowledged = position;
            // after the write: a waiter that registered before it is woken, one that registers after it sees it
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    /** The highest position the ledger acknowledged, {@link Long#MIN_VALUE} before the first. Thread-safe. */
    public long acknowledged() {
        return acknowledged;
    }

    /**
     * Waits until an acknowledgement beyond {@code known} arrives, at most {@code timeoutNanos}, and returns the
     * acknowledged position then (greater than {@code known} only if one arrived). Reader thread only. It may return
     * early (on {@link LockSupport#unpark} of the thread, which is how the source ends the wait when it stops, or
     * spuriously), so callers check their conditions again. A wake-up is never lost: an acknowledgement that arrives
     * between the caller reading {@code known} and the wait ends the wait at once (read here, or through the park
     * permit).
     *
     * @param known the acknowledged position the caller has seen
     * @param timeoutNanos the longest wait, in nanoseconds; 0 or less returns at once
     * @throws InterruptedException when the thread is interrupted (its interrupt status is cleared)
     */
    public long awaitAcknowledged(long known, long timeoutNanos) throws InterruptedException {
        waiter = Thread.currentThread();
        try {
            long ack = acknowledged; // after registering: an acknowledgement before it is seen here
            if (ack <= known && timeoutNanos > 0) {
                LockSupport.parkNanos(this, timeoutNanos);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                ack = acknowledged;
            }
            return ack;
        } finally {
            waiter = null;
        }
    }

    /** The source sealed {@code position}. */
    public void sealed(long position) {
        sealed = position;
    }

    /**
     * Moves the flushed LSN as far as is safe and returns it.
     *
     * @param serverLsn the last position the server reported (message start or keepalive)
     * @param open whether a transaction is open: being decoded, or abandoned in its middle when the source stopped
     */
    public long advance(long serverLsn, boolean open) {
        long acked = acknowledged;
        if (acked != Long.MIN_VALUE) {
            flushed = Math.max(flushed, acked + 1);
        }
        if (!open && acked >= sealed) {
            flushed = Math.max(flushed, serverLsn);
        }
        return flushed;
    }

    /** The flushed LSN last computed. */
    public long flushed() {
        return flushed;
    }
}
