package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ordered queue of one route. At most one batch of a lane is with the sink at a time, so events of a route reach
 * the broker in the order the source published them. A failed batch is retried from its first unconfirmed event
 * after a backoff, and nothing behind it moves until it succeeds (head-of-line blocking, per lane only: other lanes
 * keep going). A batch can hold several events, so after a failure the broker may already hold a later event of the
 * batch that is then sent again: consumers see duplicates, never a gap, and deduplicate by event id.
 *
 * <p>Runs as an actor on the delivery executor: {@link #enqueue} schedules it when it is idle.
 */
final class Lane implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);
    /**
     * Deferred deliveries an idle lane holds before it schedules itself anyway: a batch large enough that waking a
     * delivery thread is paid for (a fast sink otherwise takes a handful of events per wake-up, and the wake-ups cost
     * more than the events), small enough that a large transaction still flows.
     */
    private static final int HELD_BATCH = 128;

    private final Route route;
    private final Sink sink;
    private final DeadLetterHandler deadLetters;
    private final Executor executor;
    private final ScheduledExecutorService retryScheduler;
    private final Backoff backoff;
    private final int maxBatch;
    private final int heldBatch;
    private final PipelineStats stats;

    private final ArrayDeque<Delivery> queue = new ArrayDeque<>();
    private boolean scheduled; // guarded by this: running, queued on the executor, or waiting for a retry
    private int attempt; // only touched by the running actor

    Lane(
            Route route,
            Sink sink,
            DeadLetterHandler deadLetters,
            Executor executor,
            ScheduledExecutorService retryScheduler,
            Backoff backoff,
            int maxBatch,
            PipelineStats stats) {
        this.route = route;
        this.sink = sink;
        this.deadLetters = deadLetters;
        this.executor = executor;
        this.retryScheduler = retryScheduler;
        this.backoff = backoff;
        this.maxBatch = maxBatch;
        this.heldBatch = Math.min(maxBatch, HELD_BATCH);
        this.stats = stats;
    }

    /**
     * Queues a delivery and schedules the lane when it is idle, unless {@code defer} and fewer than a batch are
     * waiting: then the delivery is held until {@link #wake()}.
     *
     * @return whether the delivery is held (the caller must {@link #wake()} the lane later)
     */
    boolean enqueue(Delivery delivery, boolean defer) {
        synchronized (this) {
            queue.addLast(delivery);
            if (scheduled) {
                return false; // the running actor takes it with its next batch
            }
            if (defer && queue.size() < heldBatch) {
                return true;
            }
            scheduled = true;
        }
        submit();
        return false;
    }

    /** Schedules the lane if it is idle with deliveries waiting. */
    void wake() {
        synchronized (this) {
            if (scheduled || queue.isEmpty()) {
                return;
            }
            scheduled = true;
        }
        submit();
    }

    private void submit() {
        try {
            executor.execute(this);
        } catch (RejectedExecutionException e) {
            // The bridge is shutting down hard; what is left stays unacknowledged and is read again on restart.
            log.debug("Lane {} not rescheduled: delivery executor stopped", route);
        }
    }

    @Override
    public void run() {
        List<Delivery> batch = nextBatch();
        if (batch.isEmpty()) {
            return;
        }
        Target target = route.target();
        List<Event> events = new ArrayList<>(batch.size());
        for (Delivery d : batch) {
            events.add(d.event);
        }
        PublishResult result;
        try {
            result = sink.publish(target, events);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.debug("Lane {} interrupted while publishing; {} events stay unacknowledged", route, batch.size());
            return;
        } catch (RuntimeException e) {
            result = PublishResult.failed(0, "sink " + sink.name() + " threw " + e, e);
        }
        int confirmed = Math.min(Math.max(result.confirmed(), 0), batch.size());
        if (!result.isFailure() && confirmed < batch.size()) {
            result = PublishResult.failed(
                    confirmed,
                    "sink " + sink.name() + " confirmed only " + confirmed + " of " + batch.size()
                            + " events without saying why",
                    null);
        }
        completeFirst(batch, confirmed);
        if (!result.isFailure()) {
            if (attempt > 0) {
                log.info("Delivery to {} recovered after {} failed attempts", route, attempt);
                attempt = 0;
            }
            rescheduleOrIdle();
            return;
        }
        if (result.isPermanent()) {
            deadLetter(result.reason());
            return;
        }
        retryLater(result.reason(), result.cause());
    }

    private List<Delivery> nextBatch() {
        synchronized (this) {
            int n = Math.min(maxBatch, queue.size());
            List<Delivery> batch = new ArrayList<>(n);
            var it = queue.iterator();
            for (int i = 0; i < n; i++) {
                batch.add(it.next());
            }
            if (n == 0) {
                scheduled = false;
            }
            return batch;
        }
    }

    /** The first {@code count} events of {@code batch} (the head of the queue) are confirmed. */
    private void completeFirst(List<Delivery> batch, int count) {
        if (count == 0) {
            return;
        }
        synchronized (this) {
            for (int i = 0; i < count; i++) {
                queue.removeFirst();
            }
        }
        Delivery.complete(batch.subList(0, count));
        stats.onDelivered(count);
    }

    private void deadLetter(String reason) {
        Delivery head;
        synchronized (this) {
            head = queue.peekFirst();
        }
        try {
            deadLetters.deadLetter(head.event, route.target(), reason);
        } catch (Exception e) {
            retryLater("dead-letter handler failed: " + e, e);
            return;
        }
        synchronized (this) {
            queue.removeFirst();
        }
        head.complete();
        stats.onDeadLetter();
        attempt = 0;
        rescheduleOrIdle();
    }

    private void retryLater(String reason, Throwable cause) {
        attempt++;
        stats.onRetry();
        long delay = backoff.delayMillis(attempt);
        Delivery head;
        synchronized (this) {
            head = queue.peekFirst();
        }
        if (attempt == 1 || log.isDebugEnabled()) {
            log.warn(
                    "Delivery to {} failed, retrying in {} ms (attempt {}; event {}): {}",
                    route,
                    delay,
                    attempt,
                    head.event.id(),
                    reason,
                    log.isDebugEnabled() ? cause : null);
        } else if (attempt % 10 == 0) {
            log.warn(
                    "Delivery to {} still failing after {} attempts, retrying in {} ms: {}",
                    route,
                    attempt,
                    delay,
                    reason);
        }
        try {
            retryScheduler.schedule(this::submit, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("Lane {} retry not scheduled: bridge stopped", route);
        }
    }

    private void rescheduleOrIdle() {
        synchronized (this) {
            if (queue.isEmpty()) {
                scheduled = false;
                return;
            }
        }
        submit(); // yield the thread to other lanes between batches
    }

    Route route() {
        return route;
    }
}
