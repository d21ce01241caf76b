package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;
import io.pgbridge.Route;
import io.pgbridge.RouteState;
import io.pgbridge.RouteStats;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ordered queue of one route. A lane keeps up to {@code delivery.max-batches-in-flight} batches with its sink at
 * once (one event when {@code delivery.max-batch} is 1, as strict order sets), published in order through
 * {@link Sink#publishAsync}, and settles them strictly in publishing order: a batch's confirmations count only once
 * every earlier batch of the lane was wholly confirmed. So the events of a route reach the broker in the order the
 * source published them, and a lane settles only a prefix of its queue (the {@link Ledger} then decides what the source
 * may acknowledge).
 *
 * <p>After a failure, the lane first waits for every batch still in flight and discards what became of the batches
 * after the failed one (their events go again); then the failed event is retried <em>alone</em>, with backoff, until
 * the sink takes it; then the lane goes on with full batches from the event after it. So a failure adds as duplicates
 * at most the events that were with the broker at that moment (the rest of the failed batch and the batches after it,
 * which the broker may have taken), however many retries it needs; and nothing behind the failed event moves meanwhile
 * (head-of-line blocking, per lane only: other lanes keep going). An event refused for good goes to the
 * {@link FailurePolicy}'s dead-letter destination, or, when there is none, the route halts: it keeps retrying that
 * event at the longest backoff, logs at ERROR, and shows {@link RouteState#HALTED} until an operator acts. Any
 * {@link Throwable} from the sink, a stage that completes exceptionally and any malformed {@link PublishResult} count
 * as a failed attempt, so a lane never wedges.
 *
 * <p>Runs as an actor on the delivery executor: {@link #enqueue} schedules it when it is idle, and the completion of
 * the oldest batch in flight schedules it again; no thread waits for a broker unless the sink's
 * {@code publishAsync} does (the default, which calls the synchronous {@code publish}).
 */
final class Lane implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);
    /**
     * Deferred deliveries an idle lane holds before it schedules itself anyway: a batch large enough that waking a
     * delivery thread is paid for (a fast sink otherwise takes a handful of events per wake-up, and the wake-ups cost
     * more than the events), small enough that a large transaction still flows.
     */
    private static final int HELD_BATCH = 128;
    /** After the first failed attempt, every how many attempts a still failing route logs again. */
    private static final int LOG_EVERY = 10;

    private final Route route;
    private final Sink sink;
    private final FailurePolicy policy;
    private final LaneScheduler scheduler;
    private final Backoff backoff;
    private final int maxBatch;
    private final int heldBatch;
    /**
     * Batches the lane keeps with its sink at once: {@code delivery.max-batches-in-flight}, but 1 with a batch of 1 (as
     * strict order sets), so that then one event is in flight.
     */
    private final int window;

    private final PipelineStats stats;

    /** Deliveries not settled yet, in order; the first {@link #sent} of them are in the batches in flight. */
    private final ArrayDeque<Delivery> queue = new ArrayDeque<>();
    /** guarded by this: running, queued on the executor, waiting for a batch in flight, or waiting for a retry */
    private boolean scheduled;

    // Touched by the running actor only; read under this by nextBatch.
    private int sent; // deliveries at the head of the queue that are in flight
    private final ArrayDeque<Flight> flights = new ArrayDeque<>(); // batches with the sink, oldest first
    private PublishResult failure; // the first failed batch's result, while later ones in flight are waited for

    // Touched by the running actor only (one run at a time; the executor hands over with happens-before).
    private int attempts; // failed attempts on the head of the queue
    private Instant failingSince;

    private final LongAdder delivered = new LongAdder();
    private final LongAdder deadLettered = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private Delivery refusedHead; // touched by the running actor only: the head last counted as refused for good
    /** Set once by the pipeline before the lane takes any event. */
    private Metrics.RouteMetrics metrics = Metrics.RouteMetrics.NONE;

    private volatile Status status = Status.DELIVERING;

    /** A batch with the sink: its deliveries and its result, well-formed or not, once decided. */
    private record Flight(List<Delivery> batch, CompletableFuture<PublishResult> result) {}

    private record Status(RouteState state, Instant since, int attempts, String lastError) {
        static final Status DELIVERING = new Status(RouteState.DELIVERING, null, 0, null);
    }

    Lane(
            Route route,
            Sink sink,
            FailurePolicy policy,
            LaneScheduler scheduler,
            Backoff backoff,
            int maxBatch,
            int maxBatchesInFlight,
            PipelineStats stats) {
        this.route = route;
        this.sink = sink;
        this.policy = policy;
        this.scheduler = scheduler;
        this.backoff = backoff;
        this.maxBatch = maxBatch;
        this.heldBatch = Math.min(maxBatch, HELD_BATCH);
        this.window = maxBatch == 1 ? 1 : maxBatchesInFlight;
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
            scheduler.execute(this);
        } catch (RejectedExecutionException e) {
            // The bridge is shutting down hard; what is left stays unacknowledged and is read again on restart.
            log.debug("Lane {} not rescheduled: delivery executor stopped", route);
        }
    }

    @Override
    public void run() {
        try {
            deliverNext();
        } catch (RuntimeException | Error e) {
            // A defect of pgbridge's own, not of the sink: still a failed attempt, so that the lane goes on.
            log.error("Delivery to {} failed unexpectedly", route, e);
            failed("pgbridge failed while delivering: " + e, false);
            if (e instanceof VirtualMachineError) {
                throw e;
            }
        }
    }

    private void deliverNext() {
        boolean publishedThisRun = false;
        while (true) {
            if (!takeDecided()) {
                return;
            }
            if (publishedThisRun) {
                yieldOrWait();
                return;
            }
            if (!topUp()) {
                return;
            }
            publishedThisRun = true;
            if (!flights.peekFirst().result.isDone()) {
                awaitHead();
                return;
            }
        }
    }

    /**
     * Takes the decided batches at the head of the window, in publishing order: settles what they confirmed, until one
     * failed; after a failure, the later batches' outcomes are discarded (their events go again after the failed
     * one), and once none is left in flight the failure is handled.
     *
     * @return whether this run goes on (false: the lane waits for a batch in flight, or a failure was handled)
     */
    private boolean takeDecided() {
        for (Flight f = flights.peekFirst(); f != null && f.result.isDone(); f = flights.peekFirst()) {
            flights.removeFirst();
            sent -= f.batch.size();
            if (failure != null) {
                continue;
            }
            PublishResult result = wellFormed(f.result.join(), f.batch.size());
            int confirmed = result.confirmed();
            settleFirst(f.batch, confirmed);
            if (result.isFailure()) {
                failure = result;
            } else {
                succeeded();
            }
        }
        if (failure == null) {
            return true;
        }
        if (!flights.isEmpty()) {
            awaitHead();
            return false;
        }
        PublishResult result = failure;
        failure = null;
        if (result.isPermanent()) {
            Delivery refused;
            synchronized (this) {
                refused = queue.peekFirst();
            }
            refusedForGood(refused, result.reason());
        } else {
            failed(result.reason(), false);
        }
        return false;
    }

    /**
     * Publishes batches until the window is full, the queue has nothing more to send, or a sink decided a batch
     * already (a synchronous sink: settle it before the next). After a failure, the failed event alone.
     *
     * @return whether at least one batch is in flight and this run goes on (false: the lane went idle, an undecodable
     *     event was handled, or the thread was interrupted)
     */
    private boolean topUp() {
        int most = attempts > 0 ? 1 : window;
        while (flights.size() < most
                && (flights.isEmpty() || !flights.peekLast().result.isDone())) {
            List<Delivery> batch = nextBatch();
            if (batch.isEmpty()) {
                break;
            }
            Delivery head = batch.get(0);
            if (head.undecodable != null) {
                refusedForGood(head, "the source could not decode it: " + head.undecodable);
                return false;
            }
            Flight flight = publish(batch);
            if (flight == null) {
                return false; // interrupted: the bridge is stopping
            }
            flights.addLast(flight);
            sent += batch.size();
        }
        return !flights.isEmpty();
    }

    /** Goes on later: when the oldest batch in flight is decided, at once when it is, else idle if nothing is left. */
    private void yieldOrWait() {
        Flight head = flights.peekFirst();
        if (head != null) {
            if (head.result.isDone()) {
                submit(); // yield the thread to other lanes between batches
            } else {
                awaitHead();
            }
            return;
        }
        rescheduleOrIdle();
    }

    /** Runs the lane again once the oldest batch in flight is decided. */
    private void awaitHead() {
        flights.peekFirst().result.whenComplete((result, error) -> submit());
    }

    /**
     * The next deliveries to publish, after those in flight: one after a failure (the failed event alone), else up to
     * a batch, and only a full one while batches are in flight (so that pipelining never sends smaller batches than
     * waiting would); never an undecodable event together with others, nor while batches are in flight. Empty when
     * there is none; the lane is then idle unless batches are in flight.
     */
    private List<Delivery> nextBatch() {
        synchronized (this) {
            int n = Math.min(attempts > 0 ? 1 : maxBatch, queue.size() - sent);
            if (sent > 0 && n < maxBatch) {
                n = 0; // behind a batch in flight only a full one: a small one waits and grows meanwhile
            }
            List<Delivery> batch = new ArrayList<>(Math.max(n, 0));
            var it = queue.iterator();
            for (int i = 0; i < sent; i++) {
                it.next();
            }
            for (int i = 0; i < n; i++) {
                Delivery d = it.next();
                if (d.undecodable != null && (i > 0 || sent > 0)) {
                    break;
                }
                batch.add(d);
            }
            if (n <= 0 && sent == 0) {
                scheduled = false;
            }
            return batch;
        }
    }

    /**
     * Hands a batch to the sink. A {@link Throwable} from the sink and a stage that completes exceptionally become a
     * decided failure that confirms nothing. {@code null} when interrupted.
     */
    private Flight publish(List<Delivery> batch) {
        List<Event> events = new ArrayList<>(batch.size());
        for (Delivery d : batch) {
            events.add(d.event);
        }
        long started = metrics.publishing();
        CompletableFuture<PublishResult> result;
        try {
            CompletionStage<PublishResult> stage = sink.publishAsync(route.target(), events);
            if (stage == null) {
                result = CompletableFuture.completedFuture(null); // malformed: wellFormed says so
            } else {
                result = stage.toCompletableFuture().handle((r, e) -> {
                    metrics.published(started);
                    return e == null
                            ? r
                            : thrown(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.debug("Lane {} interrupted while publishing; {} events stay unacknowledged", route, batch.size());
            return null;
        } catch (RuntimeException | Error e) {
            if (e instanceof VirtualMachineError) {
                throw e;
            }
            result = CompletableFuture.completedFuture(thrown(e));
        }
        return new Flight(batch, result);
    }

    private PublishResult thrown(Throwable e) {
        return PublishResult.failed(0, "sink " + sink.name() + " threw " + e, e);
    }

    /** The sink's result for a batch of {@code n}, or a failure confirming nothing when it does not fit the batch. */
    private PublishResult wellFormed(PublishResult result, int n) {
        if (result == null || result.confirmed() > n || (result.isFailure() && result.confirmed() >= n)) {
            return PublishResult.failed(
                    0, "sink " + sink.name() + " returned a malformed result for " + n + " event(s): " + result, null);
        }
        if (!result.isFailure() && result.confirmed() < n) {
            return PublishResult.failed(
                    result.confirmed(),
                    "sink " + sink.name() + " confirmed only " + result.confirmed() + " of " + n
                            + " events without saying why",
                    null);
        }
        return result;
    }

    /** The first {@code count} deliveries of {@code batch} (the head of the queue) are confirmed. */
    private void settleFirst(List<Delivery> batch, int count) {
        if (count == 0) {
            return;
        }
        synchronized (this) {
            for (int i = 0; i < count; i++) {
                queue.removeFirst();
            }
        }
        metrics.confirmed(batch, count);
        Delivery.settle(batch.subList(0, count));
        delivered.add(count);
        stats.onDelivered(count);
    }

    /** The head of the queue can never be delivered: to the dead-letter destination, or the route halts. */
    private void refusedForGood(Delivery head, String reason) {
        if (head != refusedHead) { // a halted route refuses the same event again at every retry: count it once
            refusedHead = head;
            refused.increment();
        }
        DeadLetterHandler handler = policy.handlerFor(head.event, sink);
        if (handler == null) {
            failed(reason, true);
            return;
        }
        try {
            handler.deadLetter(head.event, route.target(), reason);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            failed("event refused for good (" + reason + ") and its dead-letter destination failed: " + e, false);
            return;
        }
        synchronized (this) {
            queue.removeFirst();
        }
        Delivery.settle(List.of(head));
        deadLettered.increment();
        stats.onDeadLetter();
        succeeded();
        rescheduleOrIdle();
    }

    private void succeeded() {
        refusedHead = null;
        if (attempts > 0) {
            log.info("Delivery to {} recovered after {} failed attempt(s)", route, attempts);
            attempts = 0;
            failingSince = null;
            status = Status.DELIVERING;
        }
    }

    /**
     * An attempt on the head of the queue failed: it is retried alone after a backoff; at the longest backoff when the
     * route halts (the event was refused for good and no dead-letter destination takes it).
     */
    private void failed(String reason, boolean halt) {
        attempts++;
        if (failingSince == null) {
            failingSince = Instant.now();
        }
        status = new Status(halt ? RouteState.HALTED : RouteState.RETRYING, failingSince, attempts, reason);
        stats.onRetry();
        retried.increment();
        long delay = halt ? backoff.maxMillis() : backoff.delayMillis(attempts);
        Delivery head;
        synchronized (this) {
            head = queue.peekFirst();
        }
        String id = head == null ? "-" : head.event.id();
        if (halt && (attempts == 1 || attempts % LOG_EVERY == 0)) {
            log.error(
                    "Route {} halted: event {} was refused for good and no dead-letter destination takes it ({});"
                            + " nothing behind it moves. Retrying it every {} ms until the cause is fixed, or"
                            + " configure a dead-letter destination (dead-letter.target, deadLetterHandler(...))",
                    route,
                    id,
                    reason,
                    delay);
        } else if (!halt && attempts == 1) {
            log.warn("Delivery to {} failed, retrying in {} ms (event {}): {}", route, delay, id, reason);
        } else if (!halt && attempts % LOG_EVERY == 0) {
            log.warn(
                    "Delivery to {} still failing after {} attempts since {}, retrying in {} ms (event {}): {}",
                    route,
                    attempts,
                    failingSince,
                    delay,
                    id,
                    reason);
        }
        try {
            scheduler.schedule(this::submit, delay);
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

    void measure(Metrics.RouteMetrics metrics) {
        this.metrics = metrics;
    }

    String sinkName() {
        return sink.name();
    }

    RouteState state() {
        return status.state;
    }

    long deliveredCount() {
        return delivered.sum();
    }

    long deadLetteredCount() {
        return deadLettered.sum();
    }

    long retriedCount() {
        return retried.sum();
    }

    long refusedCount() {
        return refused.sum();
    }

    RouteStats stats() {
        Status s = status;
        int queued;
        synchronized (this) {
            queued = queue.size();
        }
        return new RouteStats(
                route, s.state, s.since, s.attempts, s.lastError, delivered.sum(), deadLettered.sum(), queued);
    }
}
