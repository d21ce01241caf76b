package io.pgbridge.internal.replication;

import java.util.ArrayDeque;

/**
 * Decides the flushed LSN a logical replication client reports, so that the slot never moves past a change that is
 * not confirmed. The server never sends again what lies below the flushed LSN it was told (walsender.c,
 * ProcessStandbyReplyMessage), so this is the one place where loss could be introduced.
 *
 * <p>Events carry their transaction's commit LSN as position. A position is flushable when the pipeline
 * {@linkplain #acknowledge acknowledged} it <em>and</em> the whole transaction was handed over ({@link #committed});
 * the pipeline may acknowledge a commit LSN while later events of that transaction are still being decoded. The LSN
 * reported for a finished transaction is where a restart resumes after it (its commit record's end). When nothing is
 * in flight, the position the server last reported (a keepalive, a heartbeat message, filtered transactions) is
 * flushed too, so that an idle or filtered database does not hold WAL.
 *
 * <p>{@link #acknowledge} may be called from any thread; every other method from the reader thread only.
 */
public final class FlushTracker {
    private volatile long acknowledged = Long.MIN_VALUE;
    /** Finished transactions with events not yet acknowledged: {position, resume LSN}, positions increasing. */
    private final ArrayDeque<long[]> finished = new ArrayDeque<>();

    private long lastPublished = Long.MIN_VALUE;
    private long flushed;

    /** @param flushed where the slot stands ({@code confirmed_flush_lsn}), 0 when unknown */
    public FlushTracker(long flushed) {
        this.flushed = flushed;
    }

    /** Every event at or below {@code position} is confirmed. Thread-safe; positions only grow. */
    public void acknowledge(long position) {
        if (position > acknowledged) {
            acknowledged = position;
        }
    }

    /** An event with this position was handed to the pipeline. */
    public void published(long position) {
        lastPublished = position;
    }

    /**
     * Every event of the transaction at {@code position} was handed over; after it, a restart resumes at
     * {@code resumeLsn}.
     */
    public void committed(long position, long resumeLsn) {
        if (lastPublished == position) {
            finished.addLast(new long[] {position, resumeLsn});
        }
    }

    /**
     * Moves the flushed LSN as far as is safe and returns it.
     *
     * @param serverLsn the last position the server reported (message start or keepalive)
     * @param inTransaction whether a transaction is being decoded
     */
    public long advance(long serverLsn, boolean inTransaction) {
        long acked = acknowledged;
        while (!finished.isEmpty() && finished.peekFirst()[0] <= acked) {
            flushed = Math.max(flushed, finished.pollFirst()[1]);
        }
        if (finished.isEmpty() && !inTransaction && acked >= lastPublished) {
            flushed = Math.max(flushed, serverLsn);
        }
        return flushed;
    }

    /** The flushed LSN last computed. */
    public long flushed() {
        return flushed;
    }

    /** Whether some handed-over event is not acknowledged yet. */
    public boolean inFlight() {
        return !finished.isEmpty() || acknowledged < lastPublished;
    }
}
