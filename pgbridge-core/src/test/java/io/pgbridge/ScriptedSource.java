package io.pgbridge;

import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A source the test drives by hand: it publishes what the test gives it and records acknowledgements. */
final class ScriptedSource implements EventSource {
    final List<Long> acknowledged = new CopyOnWriteArrayList<>();
    final List<String> delivered = new CopyOnWriteArrayList<>();
    private final DeliveryGuarantee guarantee;
    private volatile SourceContext context;
    private long position;
    private volatile java.time.Instant commitTime;
    private volatile long lagBytes = -1;

    ScriptedSource() {
        this(DeliveryGuarantee.AT_LEAST_ONCE);
    }

    /**
     * The bridge the pipeline tests start from: this source into {@code sink} on routes {@code a->queue:a} and {@code
     * b->queue:b}, retrying after 5 to 20 ms; the PostgreSQL URI is never used.
     */
    PgBridge.Builder bridgeTo(Sink sink) {
        return PgBridge.builder()
                .postgres("postgresql://localhost/unused")
                .routes("a->queue:a, b->queue:b")
                .source(this)
                .sink(sink)
                .retryBackoff(Duration.ofMillis(5), Duration.ofMillis(20));
    }

    ScriptedSource(DeliveryGuarantee guarantee) {
        this.guarantee = guarantee;
    }

    @Override
    public DeliveryGuarantee guarantee() {
        return guarantee;
    }

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public void start(SourceContext context) {
        this.context = context;
    }

    /** Publishes an event at a position of its own and seals it. */
    void publish(String channel, String payload) throws InterruptedException {
        context.publish(next(channel, payload));
        context.seal(position);
    }

    /** Publishes an event its decoder could not read, at a position of its own, and seals it. */
    void publishUndecodable(String channel, String payload, String reason) throws InterruptedException {
        context.publishUndecodable(next(channel, payload), reason, Duration.ofSeconds(5));
        context.seal(position);
    }

    /** Publishes through {@link SourceContext#publishDeferred} and seals; returns whether the event was taken in time. */
    boolean publishDeferred(String channel, String payload, Duration timeout) throws InterruptedException {
        boolean taken = context.publishDeferred(next(channel, payload), timeout);
        if (!taken) {
            position--;
        } else {
            context.seal(position);
        }
        return taken;
    }

    void flush() {
        context.flush();
    }

    /** The commit time of the events published from now on; {@code null} (the default) for none. */
    void commitTime(java.time.Instant commitTime) {
        this.commitTime = commitTime;
    }

    /** The lag {@link #lagBytes()} reports from now on; -1 for none. */
    void lagBytes(long bytes) {
        this.lagBytes = bytes;
    }

    @Override
    public java.util.OptionalLong lagBytes() {
        long lag = lagBytes;
        return lag < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(lag);
    }

    /** Reports a state, as a real source does when it connects or loses its connection. */
    void state(SourceState state, String reason) {
        context.state(state, reason);
    }

    private Event next(String channel, String payload) {
        position++;
        return Event.builder()
                .id("e" + position)
                .source(name())
                .channel(channel)
                .payload(payload)
                .position(position)
                .commitTime(commitTime)
                .build();
    }

    @Override
    public void acknowledge(long position) {
        acknowledged.add(position);
    }

    @Override
    public void delivered(Event event) {
        delivered.add(event.id());
    }

    @Override
    public void stop() {}

    @Override
    public void close() {}
}
