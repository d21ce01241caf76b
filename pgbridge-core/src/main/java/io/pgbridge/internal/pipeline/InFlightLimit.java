package io.pgbridge.internal.pipeline;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds the events and bytes between a source's hand-over and the sinks' confirmations. An event's bytes are given
 * back once it is settled on every route; its place once its source's {@link Ledger} passes it (so a ledger never
 * holds more events than this bound). {@link #acquire} blocks the source while either bound is reached, which is how a
 * slow sink slows the source instead of filling memory. An event larger than the byte bound is still let through
 * when nothing else is in flight.
 */
final class InFlightLimit {
    private final int maxEvents;
    private final long maxBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int events;
    private long bytes;

    InFlightLimit(int maxEvents, long maxBytes) {
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
    }

    void acquire(long size) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (events >= maxEvents || (events > 0 && bytes + size > maxBytes)) {
                changed.await();
            }
            events++;
            bytes += size;
        } finally {
            lock.unlock();
        }
    }

    /** Like {@link #acquire}, but gives up after {@code timeoutNanos}; returns whether room was taken. */
    boolean tryAcquire(long size, long timeoutNanos) throws InterruptedException {
        long nanos = timeoutNanos;
        lock.lockInterruptibly();
        try {
            while (events >= maxEvents || (events > 0 && bytes + size > maxBytes)) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            events++;
            bytes += size;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives back the room of {@code count} events of {@code size} bytes in all; wakes waiters only if there are any. */
    void release(int count, long size) {
        lock.lock();
        try {
            events -= count;
            bytes -= size;
            if (lock.hasWaiters(changed)) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until nothing is in flight; returns whether that happened within the timeout. */
    boolean awaitEmpty(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (events > 0) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    int events() {
        lock.lock();
        try {
            return events;
        } finally {
            lock.unlock();
        }
    }

    long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    int maxEvents() {
        return maxEvents;
    }
}
