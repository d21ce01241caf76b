package io.pgbridge.benchmark;

import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.util.List;
import java.util.Set;

/**
 * Wraps a sink and records every event it confirmed; without a delegate it confirms at once and keeps nothing but
 * the ids (the in-memory path, without the cost of storing 200,000 events).
 */
final class MeasuringSink implements Sink {
    private final Sink delegate;
    private final Measurements measurements;

    MeasuringSink(Sink delegate, Measurements measurements) {
        this.delegate = delegate;
        this.measurements = measurements;
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
        for (int i = 0; i < result.confirmed(); i++) {
            Event e = events.get(i);
            measurements.confirmed(e.id(), e.commitTime());
        }
        return result;
    }

    @Override
    public void close() {
        if (delegate != null) {
            delegate.close();
        }
    }
}
