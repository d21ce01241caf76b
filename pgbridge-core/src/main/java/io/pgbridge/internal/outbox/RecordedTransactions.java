package io.pgbridge.internal.outbox;

/**
 * Which decoded transactions the streaming outbox recorded for replay, so that the stream skips them when the server
 * sends them again, and skips nothing else.
 *
 * <p><b>Invariant:</b> the stream skips a transaction as recorded only when every one of its events is in the replay
 * table or was handed over; so failover ends only once no recorded transaction can be incomplete.
 *
 * <p>A transaction can be recorded in part: its events are written in batches of {@value OutboxReplay#BATCH}, and a
 * write can fail (PostgreSQL restarting, a lock timeout) after earlier batches of it were written, or before any was.
 * The failed part is not lost: the transaction is not sealed, so the slot stays before it and the server sends it again
 * once the stream reconnects (or the bridge restarts). It is lost only if failover ended before that, because the
 * stream then skips the resent transaction as recorded (found by pgbridge-chaos, streamingOutboxToWebhook, seed
 * 4736136541995590123: a recording write failed in a PostgreSQL crash, the stream went back to streaming on
 * reconnecting, and 1,944 events were never delivered). Hence the rule: a transaction counts as complete once its
 * commit was decoded while failed over and its recorded events were written, and every transaction decoded before it
 * since the slot's position then is complete too (the server sends them in commit order, from the slot's position).
 * A transaction below the slot's confirmed flush LSN was sealed, so it is complete.
 *
 * <p>Reader thread only.
 */
final class RecordedTransactions {
    private long highest = Long.MIN_VALUE; // the highest commit LSN with an event recorded, or about to be
    private long complete = Long.MIN_VALUE; // every recorded transaction at or below it is recorded completely

    /**
     * After a (re)start: what the replay table holds, and the slot's confirmed flush LSN (every transaction that
     * commits before it was sealed).
     *
     * @param highestInTable the highest commit LSN in the replay table, or {@link Long#MIN_VALUE} when it is empty
     * @param confirmedFlush the slot's {@code confirmed_flush_lsn}, or {@link Long#MIN_VALUE} when unknown
     */
    static RecordedTransactions restored(long highestInTable, long confirmedFlush) {
        RecordedTransactions r = new RecordedTransactions();
        r.highest = highestInTable;
        r.complete = confirmedFlush == Long.MIN_VALUE ? Long.MIN_VALUE : confirmedFlush - 1;
        return r;
    }

    /** An event of the transaction committing at {@code commitLsn} is recorded (written now or later). */
    void recording(long commitLsn) {
        highest = Math.max(highest, commitLsn);
    }

    /** The commit at {@code commitLsn} was decoded and every event of it recorded so far is written. */
    void committed(long commitLsn) {
        complete = Math.max(complete, commitLsn);
    }

    /**
     * Whether the stream skips the transaction committing at {@code commitLsn}, sent again by the server: it is
     * replayed from the table. Only while streaming; while failed over every transaction is recorded (again).
     */
    boolean skip(long commitLsn, boolean failedOver) {
        return !failedOver && commitLsn <= highest;
    }

    /** Whether every recorded transaction is recorded completely, so that failover may end. */
    boolean allComplete() {
        return complete >= highest;
    }

    /** Whether anything was recorded. */
    boolean any() {
        return highest != Long.MIN_VALUE;
    }
}
