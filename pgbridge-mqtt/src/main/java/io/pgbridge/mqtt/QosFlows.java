package io.pgbridge.mqtt;

import io.pgbridge.spi.PublishResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The QoS flows of one batch, in publishing order, and the batch's result. Invariant: the result confirms exactly the
 * leading flows that completed normally by the time it was decided, and it is decided as soon as that prefix is known
 * (every flow completed normally, or the first flow that did not completed exceptionally) or the batch expired, never
 * later and never otherwise. Flows may complete in any order and on any thread; thread-safe.
 */
final class QosFlows {
    /** What the batch's result says, given the confirmed prefix; called at most once, under no lock of this class. */
    interface Outcomes {
        /** Every flow completed normally. */
        PublishResult allCompleted(int flows);

        /** Flow {@code confirmed} (0-based) failed with {@code cause}, after the {@code confirmed} before it. */
        PublishResult failed(int confirmed, Throwable cause);

        /** The batch expired while flow {@code confirmed} was still pending. */
        PublishResult expired(int confirmed);
    }

    private final List<CompletableFuture<?>> flows;
    private final Outcomes outcomes;
    private final CompletableFuture<PublishResult> result = new CompletableFuture<>();
    private int completed; // guarded by this: the leading flows that completed normally
    private boolean expired; // guarded by this
    private boolean decided; // guarded by this: the result is being or was completed

    /**
     * Decides the result at once when it is known already, else once a flow completes.
     *
     * @param flows the QoS flows, each completing normally when the broker confirmed its PUBLISH (QoS 0: when it was
     *     written), exceptionally when it failed; not modified
     */
    QosFlows(List<CompletableFuture<?>> flows, Outcomes outcomes) {
        this.flows = flows;
        this.outcomes = outcomes;
        flows.forEach(f -> f.whenComplete((r, e) -> decide()));
        decide();
    }

    /**
     * Expires the batch {@code timeout} from now unless it is decided by then (the timer, on the JDK's shared delay
     * thread, is cancelled once it is).
     *
     * @return the result, which never completes exceptionally
     */
    CompletableFuture<PublishResult> expiringAfter(Duration timeout) {
        if (!result.isDone()) {
            CompletableFuture<Void> timer =
                    new CompletableFuture<Void>().completeOnTimeout(null, timeout.toNanos(), TimeUnit.NANOSECONDS);
            timer.thenRun(this::expire);
            result.whenComplete((r, e) -> timer.cancel(false));
        }
        return result;
    }

    /** Decides the batch with the confirmed prefix as it is now, unless it is decided already. */
    void expire() {
        synchronized (this) {
            expired = true;
        }
        decide();
    }

    /** The result, decided or not. */
    CompletableFuture<PublishResult> result() {
        return result;
    }

    /** Completes the result, outside the lock (its callbacks run here), once it is known. */
    private void decide() {
        int confirmed;
        Throwable failure = null;
        synchronized (this) {
            if (decided) {
                return;
            }
            while (completed < flows.size()
                    && flows.get(completed).isDone()
                    && !flows.get(completed).isCompletedExceptionally()) {
                completed++;
            }
            confirmed = completed;
            if (confirmed < flows.size()) {
                CompletableFuture<?> next = flows.get(confirmed);
                if (next.isCompletedExceptionally()) {
                    failure = cause(next);
                } else if (!expired) {
                    return;
                }
            }
            decided = true;
        }
        result.complete(
                confirmed == flows.size()
                        ? outcomes.allCompleted(confirmed)
                        : failure != null ? outcomes.failed(confirmed, failure) : outcomes.expired(confirmed));
    }

    /** Why a flow completed exceptionally. */
    private static Throwable cause(CompletableFuture<?> failed) {
        Throwable e = failed.handle((r, t) -> t).join();
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
