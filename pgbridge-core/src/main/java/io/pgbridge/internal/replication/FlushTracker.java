package io.pgbridge.internal.replication;

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
 * <p>{@link #acknowledge} may be called from any thread; every other method from the reader thread only.
 */
public final class FlushTracker {
    private volatile long acknowledged = Long.MIN_VALUE;
    private long sealed = Long.MIN_VALUE;
    private long flushed;

    /** @param flushed where the slot stands ({@code confirmed_flush_lsn}), 0 when unknown */
    public FlushTracker(long flushed) {
        this.flushed = flushed;
    }

    /** The ledger acknowledged {@code position}. Thread-safe; positions only grow. */
    public void acknowledge(long position) {
        if (position > acknowledged) {
            acknowledged = position;
        }
    }

    /** The highest position the ledger acknowledged, {@link Long#MIN_VALUE} before the first. Thread-safe. */
    public long acknowledged() {
        return acknowledged;
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
