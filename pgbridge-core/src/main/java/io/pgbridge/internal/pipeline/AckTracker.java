package io.pgbridge.internal.pipeline;

import io.pgbridge.spi.EventSource;

/**
 * Turns out-of-order confirmations into the position a source may acknowledge: the highest position at or below
 * which every event the source published is done (confirmed by every sink it was routed to, or dead-lettered).
 *
 * <p>Several events can share one position (all changes of a WAL transaction carry its commit LSN), so a position is
 * acknowledged only once every event that carries it is done: acknowledging a commit LSN tells PostgreSQL never to
 * send that transaction again. Confirmations from different lanes arrive in any order; only the contiguous done
 * prefix counts (yugabyte-db#33126 lost data by flushing past an unconfirmed record).
 *
 * <p>A ring of slots indexed by sequence number; its capacity is the pipeline's event bound, which
 * {@link InFlightLimit} enforces before {@link #register}. Thread-safe.
 */
final class AckTracker {
    private final EventSource source;
    private final long[] positions;
    private final int[] remaining;
    private long head; // oldest sequence not yet passed
    private long tail; // next sequence to hand out
    private long runPosition = Long.MIN_VALUE; // position of the last passed slot
    private long safeBeforeRun = Long.MIN_VALUE; // highest position of a fully passed run before runPosition
    private long acknowledged = Long.MIN_VALUE;

    AckTracker(EventSource source, int capacity) {
        this.source = source;
        this.positions = new long[capacity];
        this.remaining = new int[capacity];
    }

    /** Registers an event that needs {@code routes} confirmations; returns its sequence number. */
    synchronized long register(long position, int routes) {
        if (tail - head >= positions.length) {
            throw new IllegalStateException("ack tracker overflow: more in flight than the pipeline bound");
        }
        if (tail > head && position < positions[index(tail - 1)]) {
            throw new IllegalArgumentException("source " + source.name() + " published position " + position + " after "
                    + positions[index(tail - 1)] + "; positions must not decrease");
        }
        long seq = tail++;
        positions[index(seq)] = position;
        remaining[index(seq)] = routes;
        if (routes == 0) {
            advance();
        }
        return seq;
    }

    /**
     * One route of each event {@code sequences[0..count)} is done; {@code done[i]} tells whether event
     * {@code sequences[i]} is now done on all its routes. One lock and at most one acknowledgement per call, so that a
     * sink's batch is settled at once.
     */
    synchronized void complete(long[] sequences, int count, boolean[] done) {
        for (int i = 0; i < count; i++) {
            done[i] = countDown(sequences[i]);
        }
        if (head < tail && remaining[index(head)] == 0) {
            advance();
        }
    }

    private boolean countDown(long seq) {
        int i = index(seq);
        if (remaining[i] <= 0) {
            throw new IllegalStateException("sequence " + seq + " completed more often than it was routed");
        }
        return --remaining[i] == 0;
    }

    private void advance() {
        while (head < tail && remaining[index(head)] == 0) {
            long p = positions[index(head)];
            if (p != runPosition) {
                safeBeforeRun = runPosition;
                runPosition = p;
            }
            head++;
        }
        long safe = (head == tail || positions[index(head)] != runPosition) ? runPosition : safeBeforeRun;
        if (safe > acknowledged) {
            acknowledged = safe;
            source.acknowledge(safe);
        }
    }

    /** The last acknowledged position, {@link Long#MIN_VALUE} before the first. */
    synchronized long acknowledged() {
        return acknowledged;
    }

    synchronized int inFlight() {
        return (int) (tail - head);
    }

    private int index(long seq) {
        return (int) (seq % positions.length);
    }
}
