package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The pipeline as one source sees it: hand-over with backpressure, and acknowledgement through its tracker. */
final class SourceChannel implements SourceContext {
    private static final Logger log = LoggerFactory.getLogger(SourceChannel.class);

    private final EventSource source;
    private final Pipeline pipeline;
    private final AckTracker tracker;
    private final ThreadFactory threadFactory;
    private final Consumer<Throwable> onFailure;
    /** Lanes holding deferred deliveries of this source until {@link #flush()}. */
    private final List<Lane> held = new ArrayList<>();

    SourceChannel(
            EventSource source,
            Pipeline pipeline,
            int capacity,
            ThreadFactory threadFactory,
            Consumer<Throwable> onFailure) {
        this.source = source;
        this.pipeline = pipeline;
        this.tracker = new AckTracker(source, capacity);
        this.threadFactory = threadFactory;
        this.onFailure = onFailure;
    }

    @Override
    public void publish(Event event) throws InterruptedException {
        pipeline.ensureOpen();
        List<Lane> lanes = pipeline.router().lanesFor(event);
        pipeline.limit().acquire(event.estimatedSize());
        enqueue(event, lanes, false);
    }

    @Override
    public boolean publish(Event event, Duration timeout) throws InterruptedException {
        pipeline.ensureOpen();
        List<Lane> lanes = pipeline.router().lanesFor(event);
        if (!pipeline.limit().tryAcquire(event.estimatedSize(), timeout.toNanos())) {
            return false;
        }
        enqueue(event, lanes, false);
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
        enqueue(event, lanes, true);
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

    private void enqueue(Event event, List<Lane> lanes, boolean defer) {
        pipeline.stats().onReceived();
        long seq = tracker.register(event.position(), lanes.size());
        if (lanes.isEmpty()) {
            pipeline.stats().onUnrouted();
            done(event);
            return;
        }
        for (Lane lane : lanes) {
            if (lane.enqueue(new Delivery(event, seq, this), defer)) {
                synchronized (held) {
                    if (!held.contains(lane)) {
                        held.add(lane);
                    }
                }
            }
        }
    }

    /**
     * One route of each of these deliveries (of this source, in lane order) is confirmed or dead-lettered. Done in
     * batch, so that a sink's batch costs one lock of the tracker and one of the in-flight limit, not one per event.
     */
    void complete(List<Delivery> deliveries) {
        int n = deliveries.size();
        long[] sequences = new long[n];
        boolean[] done = new boolean[n];
        for (int i = 0; i < n; i++) {
            sequences[i] = deliveries.get(i).sequence;
        }
        tracker.complete(sequences, n, done);
        int events = 0;
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            if (done[i]) {
                events++;
                bytes += deliveries.get(i).event.estimatedSize();
            }
        }
        if (events == 0) {
            return;
        }
        pipeline.limit().release(events, bytes);
        for (int i = 0; i < n; i++) {
            if (done[i]) {
                delivered(deliveries.get(i).event);
            }
        }
    }

    private void done(Event event) {
        pipeline.limit().release(1, event.estimatedSize());
        delivered(event);
    }

    private void delivered(Event event) {
        try {
            source.delivered(event);
        } catch (RuntimeException e) {
            log.warn("Source {} failed to take the delivery of event {}", source.name(), event.id(), e);
        }
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

    long acknowledged() {
        return tracker.acknowledged();
    }
}
