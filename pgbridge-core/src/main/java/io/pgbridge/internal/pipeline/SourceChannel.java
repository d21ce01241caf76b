package io.pgbridge.internal.pipeline;

import io.pgbridge.DeliveryGuarantee;
import io.pgbridge.Event;
import io.pgbridge.SourceState;
import io.pgbridge.SourceStats;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline as one source sees it: hand-over with backpressure, and acknowledgement through the source's
 * {@link Ledger}. Room in the pipeline: an event's bytes are given back once it is settled on every route, its place
 * once the ledger passes it (for an event without a position: once settled).
 */
final class SourceChannel implements SourceContext {
    private static final Logger log = LoggerFactory.getLogger(SourceChannel.class);
    private static final long DROP_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

    private final EventSource source;
    private final DeliveryGuarantee guarantee;
    private final Pipeline pipeline;
    private final Ledger ledger;
    private final ThreadFactory threadFactory;
    private final Consumer<Throwable> onFailure;
    /** Lanes holding deferred deliveries of this source until {@link #flush()}. */
    private final List<Lane> held = new ArrayList<>();

    private final LongAdder received = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final AtomicInteger unsettledWithoutPosition = new AtomicInteger();
    private volatile Status status = new Status(SourceState.STARTING, Instant.now(), null);
    private volatile String warning;
    private long droppedAtLastLog; // guarded by this
    private long lastDropLog = System.nanoTime() - DROP_LOG_INTERVAL_NANOS; // guarded by this

    private record Status(SourceState state, Instant since, String reason) {}

    SourceChannel(
            EventSource source,
            Pipeline pipeline,
            int capacity,
            ThreadFactory threadFactory,
            Consumer<Throwable> onFailure) {
        this.source = source;
        this.guarantee = source.guarantee();
        this.pipeline = pipeline;
        this.ledger = new Ledger(source::acknowledge, capacity);
        this.threadFactory = threadFactory;
        this.onFailure = onFailure;
    }

    @Override
    public void publish(Event event) throws InterruptedException {
        pipeline.ensureOpen();
        List<Lane> lanes = pipeline.router().lanesFor(event);
        pipeline.limit().acquire(event.estimatedSize());
        enqueue(event, null, lanes, false);
    }

    @Override
    public boolean publish(Event event, Duration timeout) throws InterruptedException {
        return publish(event, null, timeout);
    }

    @Override
    public boolean publishUndecodable(Event event, String reason, Duration timeout) throws InterruptedException {
        return publish(event, java.util.Objects.requireNonNull(reason, "reason"), timeout);
    }

    private boolean publish(Event event, String undecodable, Duration timeout) throws InterruptedException {
        pipeline.ensureOpen();
        List<Lane> lanes = pipeline.router().lanesFor(event);
        if (!pipeline.limit().tryAcquire(event.estimatedSize(), timeout.toNanos())) {
            return false;
        }
        enqueue(event, undecodable, lanes, false);
        return true;
    }

    @Override
    public boolean publishDeferred(Event event, Duration timeout) throws InterruptedException {
        pipeline.ensureOpen();
        List<Lane> lanes = pipeline.router().lanesFor(event);
        long size = event.estimatedSize();
        if (!pipeline.limit().tryAcquire(size, 0)) {
            flush(); // held events may be what fills the pipeline: they must move before this waits for room
            if (!pipeline.limit().tryAcquire(size, timeout.toNanos())) {
                return false;
            }
        }
        enqueue(event, null, lanes, true);
        return true;
    }

    @Override
    public void flush() {
        Lane[] lanes;
        synchronized (held) {
            if (held.isEmpty()) {
                return;
            }
            lanes = held.toArray(new Lane[0]);
            held.clear();
        }
        for (Lane lane : lanes) {
            lane.wake();
        }
    }

    private void enqueue(Event event, String undecodable, List<Lane> lanes, boolean defer) {
        received.increment();
        pipeline.stats().onReceived();
        boolean positioned = event.position() != Event.NO_POSITION;
        if (lanes.isEmpty()) {
            pipeline.stats().onUnrouted();
            int passed = positioned ? ledger.registerSettled(event.position()) : 1;
            pipeline.limit().release(passed, event.estimatedSize());
            delivered(event);
            return;
        }
        long seq = -1;
        AtomicInteger routesLeft = null;
        if (positioned) {
            seq = ledger.register(event.position(), lanes.size());
        } else {
            unsettledWithoutPosition.incrementAndGet();
            routesLeft = lanes.size() > 1 ? new AtomicInteger(lanes.size()) : null;
        }
        for (Lane lane : lanes) {
            if (lane.enqueue(new Delivery(event, seq, undecodable, this, routesLeft), defer)) {
                synchronized (held) {
                    if (!held.contains(lane)) {
                        held.add(lane);
                    }
                }
            }
        }
    }

    /**
     * One route of each of these deliveries (of this source, in lane order) is settled. Done in batch, so that a
     * sink's batch costs one lock of the ledger and one of the in-flight limit, not one per event.
     */
    void settle(List<Delivery> deliveries) {
        int n = deliveries.size();
        long[] sequences = new long[n];
        boolean[] settled = new boolean[n];
        int positioned = 0;
        for (int i = 0; i < n; i++) {
            Delivery d = deliveries.get(i);
            if (d.sequence >= 0) {
                sequences[positioned++] = d.sequence;
            }
        }
        boolean[] positionedSettled = new boolean[positioned];
        int passed = positioned == 0 ? 0 : ledger.settle(sequences, positioned, positionedSettled);
        int withoutPosition = 0;
        long bytes = 0;
        for (int i = 0, p = 0; i < n; i++) {
            Delivery d = deliveries.get(i);
            if (d.sequence >= 0) {
                settled[i] = positionedSettled[p++];
            } else if (d.lastRoute()) {
                settled[i] = true;
                withoutPosition++;
            }
            if (settled[i]) {
                bytes += d.event.estimatedSize();
            }
        }
        if (withoutPosition > 0) {
            unsettledWithoutPosition.addAndGet(-withoutPosition); // once per batch: the source increments it per event
        }
        int events = passed + withoutPosition;
        if (events > 0 || bytes > 0) {
            pipeline.limit().release(events, bytes);
        }
        for (int i = 0; i < n; i++) {
            if (settled[i]) {
                delivered(deliveries.get(i).event);
            }
        }
    }

    private void delivered(Event event) {
        try {
            source.delivered(event);
        } catch (RuntimeException e) {
            log.warn("Source {} failed to take the delivery of event {}", source.name(), event.id(), e);
        }
    }

    @Override
    public void seal(long position) {
        int passed = ledger.seal(position);
        if (passed > 0) {
            pipeline.limit().release(passed, 0);
        }
    }

    @Override
    public void storedDurably(long position) {
        int passed = ledger.storedDurably(position);
        if (passed > 0) {
            pipeline.limit().release(passed, 0);
        }
    }

    @Override
    public void dropped(Event event, String reason) {
        dropped.increment();
        synchronized (this) {
            long now = System.nanoTime();
            if (now - lastDropLog < DROP_LOG_INTERVAL_NANOS) {
                return;
            }
            long total = dropped.sum();
            log.warn(
                    "Source {} dropped {} event(s) ({} in all; the last on channel {}): {}",
                    source.name(),
                    total - droppedAtLastLog,
                    total,
                    event.channel(),
                    reason);
            droppedAtLastLog = total;
            lastDropLog = now;
        }
    }

    @Override
    public void state(SourceState state, String reason) {
        Status now = status;
        if (now.state != state || !java.util.Objects.equals(now.reason, reason)) {
            status = new Status(state, now.state == state ? now.since : Instant.now(), reason);
        }
    }

    @Override
    public void warning(String warning) {
        this.warning = warning;
    }

    @Override
    public boolean isRouted(String channel) {
        return pipeline.router().isRouted(source.name(), channel);
    }

    @Override
    public ThreadFactory threadFactory() {
        return threadFactory;
    }

    @Override
    public void failed(Throwable cause) {
        onFailure.accept(cause);
    }

    EventSource source() {
        return source;
    }

    SourceState state() {
        return status.state;
    }

    long receivedCount() {
        return received.sum();
    }

    long droppedCount() {
        return dropped.sum();
    }

    /** Events handed over and not yet settled on every route. */
    int unsettled() {
        return ledger.unsettled() + unsettledWithoutPosition.get();
    }

    SourceStats stats() {
        Status s = status;
        return new SourceStats(
                source.name(),
                guarantee,
                s.state,
                s.since,
                s.reason,
                received.sum(),
                dropped.sum(),
                unsettled(),
                source.lagBytes(),
                warning);
    }
}
