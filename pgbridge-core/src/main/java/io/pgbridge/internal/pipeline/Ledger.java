package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;
import java.util.function.LongConsumer;

/**
 * The acknowledgement ledger of one source: the one place that decides which position the source may acknowledge.
 *
 * <p><b>Invariant:</b> a position is acknowledged only once the source has sealed it and every event the source
 * published at or below it is settled (confirmed by every route it was routed to, or taken by a failure policy) or
 * stored durably by the source itself; acknowledgements only grow, and each is a sealed position.
 *
 * <p>The source's side: {@link #register} an event before handing it to its lanes (positions never decrease, and never
 * fall at or below a sealed position); {@link #seal} a position once no event at or below it will come (the WAL source
 * seals a transaction's end LSN after its commit was decoded and its every event handed over: acknowledging the
 * commit of a half-handed-over transaction is how a committed change gets lost); {@link #storedDurably} when the
 * source keeps events elsewhere (the outbox records them for replay). The lanes' side: {@link #settle} one route of
 * some events. Several events can share one position (every change of a transaction carries its commit LSN).
 *
 * <p>Events without a position ({@link Event#NO_POSITION}) are kept by the source itself (a table row it deletes once
 * told through {@code delivered}); they take no part in acknowledgement and are not registered here.
 *
 * <p>Memory: a ring of registered events, from the oldest unsettled one to the newest; {@link InFlightLimit} keeps
 * its length within the pipeline's event bound, since an event's room is given back only when the ring passes it.
 * Seals that no event separates are merged, so there are never more seals than registered events plus one.
 * Thread-safe; the acknowledgement is reported inside the lock, so the source sees positions in order.
 */
final class Ledger {
    private final LongConsumer acknowledger;
    private final long[] positions;
    private final int[] remaining;
    private long head; // oldest registered sequence not yet passed (its room not yet given back)
    private long scan; // oldest sequence that holds acknowledgement back: unsettled and not stored durably
    private long tail; // next sequence

    private final long[] seals; // ring of sealed positions not yet acknowledged, increasing
    private int sealHead;
    private int sealCount;
    private boolean registeredSinceSeal;

    private long lastPosition = Long.MIN_VALUE;
    private long lastSeal = Long.MIN_VALUE;
    private long durable = Long.MIN_VALUE;
    private long acknowledged = Long.MIN_VALUE;

    /**
     * @param acknowledger receives each new acknowledged position, in increasing order, under this ledger's lock
     * @param capacity the most registered events not yet passed (the pipeline's event bound)
     */
    Ledger(LongConsumer acknowledger, int capacity) {
        this.acknowledger = acknowledger;
        this.positions = new long[capacity];
        this.remaining = new int[capacity];
        this.seals = new long[capacity + 1];
    }

    /**
     * Registers an event that needs {@code routes} settlements; returns its sequence number.
     *
     * @throws IllegalArgumentException when the position decreases or is at or below a sealed position (a source bug)
     * @throws IllegalStateException when more events are registered than the capacity (the pipeline's bound broken)
     */
    synchronized long register(long position, int routes) {
        if (position <= lastSeal) {
            throw new IllegalArgumentException(
                    "position " + position + " was published after position " + lastSeal + " was sealed");
        }
        if (position < lastPosition) {
            throw new IllegalArgumentException(
                    "position " + position + " was published after " + lastPosition + "; positions must not decrease");
        }
        if (tail - head >= positions.length) {
            throw new IllegalStateException("ledger full: more events registered than the pipeline's event bound");
        }
        long seq = tail++;
        positions[index(seq)] = position;
        remaining[index(seq)] = routes;
        lastPosition = position;
        registeredSinceSeal = true;
        return seq;
    }

    /**
     * Registers an event no route takes: settled at once.
     *
     * @return how many events the ledger passed (their room is given back), this one included when nothing holds it
     * @throws IllegalArgumentException as {@link #register}
     */
    synchronized int registerSettled(long position) {
        register(position, 0);
        return advance();
    }

    /**
     * No event at or below {@code position} will be registered any more. Sealing the same position again does nothing.
     *
     * @return how many events the ledger passed (their room is given back)
     * @throws IllegalArgumentException when {@code position} is below the last sealed position
     */
    synchronized int seal(long position) {
        if (position < lastSeal) {
            throw new IllegalArgumentException(
                    "position " + position + " sealed after " + lastSeal + "; seals must not decrease");
        }
        if (position == lastSeal) {
            return 0;
        }
        if (!registeredSinceSeal && sealCount > 0) {
            seals[(sealHead + sealCount - 1) % seals.length] = position; // nothing between: the later seal covers both
        } else {
            seals[(sealHead + sealCount) % seals.length] = position;
            sealCount++;
        }
        registeredSinceSeal = false;
        lastSeal = position;
        return advance();
    }

    /**
     * One route of each event {@code sequences[0..count)} is settled; {@code settled[i]} tells whether event
     * {@code sequences[i]} is now settled on all its routes.
     *
     * @return how many events the ledger passed (their room is given back)
     * @throws IllegalStateException when an event is settled more often than it was routed
     */
    synchronized int settle(long[] sequences, int count, boolean[] settled) {
        for (int i = 0; i < count; i++) {
            long seq = sequences[i];
            int at = index(seq);
            if (seq < head || seq >= tail || remaining[at] <= 0) {
                throw new IllegalStateException("sequence " + seq + " settled more often than it was routed");
            }
            settled[i] = --remaining[at] == 0;
        }
        return advance();
    }

    /**
     * Every event at or below {@code position} is stored durably by the source, which delivers it from there if its
     * lanes do not: acknowledging no longer waits for those events (they stay in their lanes, and their room is given
     * back once they settle).
     *
     * @return how many events the ledger passed
     */
    synchronized int storedDurably(long position) {
        if (position > durable) {
            durable = position;
        }
        return advance();
    }

    private int advance() {
        int passed = 0;
        while (head < tail && remaining[index(head)] == 0) {
            head++;
            passed++;
        }
        if (scan < head) {
            scan = head;
        }
        while (scan < tail && (remaining[index(scan)] == 0 || positions[index(scan)] <= durable)) {
            scan++;
        }
        long ack = acknowledged;
        while (sealCount > 0 && (scan == tail || positions[index(scan)] > seals[sealHead])) {
            ack = seals[sealHead];
            sealHead = (sealHead + 1) % seals.length;
            sealCount--;
        }
        if (ack > acknowledged) {
            acknowledged = ack;
            acknowledger.accept(ack);
        }
        return passed;
    }

    /** The last acknowledged position, {@link Long#MIN_VALUE} before the first. */
    synchronized long acknowledged() {
        return acknowledged;
    }

    /** The last sealed position, {@link Long#MIN_VALUE} before the first. */
    synchronized long sealed() {
        return lastSeal;
    }

    /** Registered events not yet passed: the unsettled ones and the settled ones behind an unsettled one. */
    synchronized int held() {
        return (int) (tail - head);
    }

    /** Registered events not settled yet. */
    synchronized int unsettled() {
        int n = 0;
        for (long s = head; s < tail; s++) {
            if (remaining[index(s)] > 0) {
                n++;
            }
        }
        return n;
    }

    private int index(long seq) {
        return (int) (seq % positions.length);
    }
}
