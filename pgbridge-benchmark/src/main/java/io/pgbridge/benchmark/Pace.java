package io.pgbridge.benchmark;

import java.util.concurrent.locks.LockSupport;

/**
 * Paces a producer at a fixed offered load: before each transaction it waits until the events sent so far are due at
 * the rate. A rate of 0 does not pace (as fast as the session can). Used to measure latency at a load both readers
 * keep up with, where an unpaced producer measures how far behind the slower one falls. Not thread-safe: one per
 * producing session.
 */
final class Pace {
    private final double eventsPerSecond;
    private final long start = System.nanoTime();

    /** @param eventsPerSecond the offered load of this session; 0: unpaced */
    Pace(double eventsPerSecond) {
        if (eventsPerSecond < 0) {
            throw new IllegalArgumentException("rate must be 0 (unpaced) or positive, got " + eventsPerSecond);
        }
        this.eventsPerSecond = eventsPerSecond;
    }

    /** Waits until {@code sent} events are due (the schedule, not a condition: a paced producer's clock). */
    void awaitDue(long sent) {
        if (eventsPerSecond == 0) {
            return;
        }
        long due = start + (long) (sent * 1e9 / eventsPerSecond);
        for (long left; (left = due - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }
}
