package io.pgbridge.internal.outbox;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The events one claim holds under its lease (polling mode), or the backlog a streaming source reads from the table:
 * which of them the pipeline has not finished yet, and which are done (confirmed by every sink, or dead-lettered) and
 * may be deleted. Thread-safe: the poller waits on it while
 * pipeline threads report deliveries.
 */
final class ClaimedBatch {
    private final Set<Long> pending = new HashSet<>();
    private final List<Long> done = new ArrayList<>();

    /** Registers an event before it is handed to the pipeline, which may report it done at once. */
    synchronized void expect(long id) {
        pending.add(id);
    }

    /** An event that was registered but not handed over after all (the bridge is stopping). */
    synchronized void forget(long id) {
        pending.remove(id);
        notifyAll();
    }

    synchronized void done(long id) {
        if (pending.remove(id)) {
            done.add(id);
            notifyAll();
        }
    }

    /** Waits up to {@code millis} for every handed-over event to be done; true when they all are. */
    synchronized boolean awaitDone(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        long left = millis;
        while (!pending.isEmpty() && left > 0) {
            wait(left);
            left = (deadline - System.nanoTime()) / 1_000_000L;
        }
        return pending.isEmpty();
    }

    /** The events handed over and not done yet. */
    synchronized Long[] pendingIds() {
        return pending.toArray(new Long[0]);
    }

    /** The events done since the last call. */
    synchronized Long[] takeDone() {
        Long[] ids = done.toArray(new Long[0]);
        done.clear();
        return ids;
    }
}
