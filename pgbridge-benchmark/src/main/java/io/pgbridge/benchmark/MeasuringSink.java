package io.pgbridge.benchmark;

import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Wraps a sink and records every event it confirmed; without a delegate it confirms at once and keeps nothing but
 * the ids (the in-memory path, without the cost of storing 200,000 events). An event's id and time are its own
 * ({@link Event#id()}, {@link Event#commitTime()}), or for {@link NotifyProducer}'s notifications, which have no commit
 * time, those its payload carries.
 */
final class MeasuringSink implements Sink {
    private final Sink delegate;
    private final Measurements measurements;
    private final boolean stampedPayloads;

    /**
     * @param delegate the sink that publishes, or null to confirm at once
     * @param stampedPayloads whether ids and times are taken from payloads written by {@link NotifyProducer}
     */
    MeasuringSink(Sink delegate, Measurements measurements, boolean stampedPayloads) {
        this.delegate = delegate;
        this.measurements = measurements;
        this.stampedPayloads = stampedPayloads;
    }

    @Override
    public String name() {
        return delegate == null ? "counting" : delegate.name();
    }

    @Override
    public Set<String> targetKinds() {
        return delegate == null ? Set.of() : delegate.targetKinds();
    }

    @Override
    public List<String> validateTarget(Target target) {
        return delegate == null ? List.of() : delegate.validateTarget(target);
    }

    @Override
    public void start() {
        if (delegate != null) {
            delegate.start();
        }
    }

    @Override
    public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
        PublishResult result =
                delegate == null ? PublishResult.confirmed(events.size()) : delegate.publish(target, events);
        List<String> ids = new ArrayList<>(result.confirmed());
        List<Instant> commitTimes = new ArrayList<>(result.confirmed());
        for (int i = 0; i < result.confirmed(); i++) {
            Event e = events.get(i);
            if (stampedPayloads) {
                ByteBuffer payload = e.payloadBuffer(); // not decoded: the bare loop gets the text from pgjdbc
                ids.add(NotifyProducer.id(payload));
                commitTimes.add(NotifyProducer.sentAt(payload));
            } else {
                ids.add(e.id());
                commitTimes.add(e.commitTime());
            }
        }
        measurements.confirmed(ids, commitTimes);
        return result;
    }

    @Override
    public void close() {
        if (delegate != null) {
            delegate.close();
        }
    }
}
