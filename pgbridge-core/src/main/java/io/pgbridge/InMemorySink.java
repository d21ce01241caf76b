package io.pgbridge;

import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A sink that keeps what it is given, for tests: assert on {@link #events()}, and make it fail on demand to see how
 * the pipeline retries and dead-letters. Accepts every target kind. Thread-safe.
 *
 * <pre>{@code
 * InMemorySink sink = new InMemorySink();
 * try (PgBridge bridge = PgBridge.builder()
 *         .postgres("postgresql://postgres@localhost:5432/postgres")
 *         .routes("events->queue:events")
 *         .sink(sink)
 *         .build()) {
 *     bridge.start();
 *     // NOTIFY events, 'hello'
 *     sink.await(1, Duration.ofSeconds(5));
 * }
 * }</pre>
 */
public final class InMemorySink implements Sink {
    /** One delivered event and where it went. */
    public static final class Delivered {
        private final Target target;
        private final Event event;

        Delivered(Target target, Event event) {
            this.target = target;
            this.event = event;
        }

        public Target target() {
            return target;
        }

        public Event event() {
            return event;
        }

        @Override
        public String toString() {
            return target + " <- " + event;
        }
    }

    private final List<Delivered> delivered = new ArrayList<>();
    private int failuresLeft;
    private boolean available = true;
    private Predicate<Event> rejectWhen = e -> false;
    private long publishCalls;

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of();
    }

    @Override
    public void start() {}

    @Override
    public synchronized PublishResult publish(Target target, List<Event> events) {
        publishCalls++;
        if (!available) {
            return PublishResult.failed(0, "in-memory sink is unavailable", null);
        }
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (failuresLeft > 0) {
                failuresLeft--;
                return PublishResult.failed(i, "in-memory sink failed on demand", null);
            }
            if (rejectWhen.test(e)) {
                return PublishResult.rejected(i, "in-memory sink rejects event " + e.id());
            }
            delivered.add(new Delivered(target, e));
        }
        notifyAll();
        return PublishResult.confirmed(events.size());
    }

    /** Every delivered event, in delivery order (a copy). */
    public synchronized List<Delivered> deliveries() {
        return new ArrayList<>(delivered);
    }

    /** Every delivered event, in delivery order (a copy). */
    public synchronized List<Event> events() {
        List<Event> out = new ArrayList<>(delivered.size());
        for (Delivered d : delivered) {
            out.add(d.event);
        }
        return out;
    }

    /** The payloads of every delivered event, decoded as UTF-8, in delivery order. */
    public synchronized List<String> payloads() {
        List<String> out = new ArrayList<>(delivered.size());
        for (Delivered d : delivered) {
            out.add(d.event.payloadAsString());
        }
        return out;
    }

    /** How many times {@link #publish} was called. */
    public synchronized long publishCalls() {
        return publishCalls;
    }

    /**
     * Blocks until at least {@code count} events were delivered.
     *
     * @return the delivered events
     * @throws TimeoutException when fewer arrived within {@code timeout}
     */
    public synchronized List<Event> await(int count, Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (delivered.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("expected " + count + " events, got " + delivered.size());
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return events();
    }

    /** Makes the next {@code n} event publications fail with a retryable error. */
    public synchronized void failNext(int n) {
        this.failuresLeft = n;
    }

    /** While unavailable, every publish fails with a retryable error, as if the broker were down. */
    public synchronized void setAvailable(boolean available) {
        this.available = available;
    }

    /** Refuses matching events for good, so that they go to the dead-letter handler. */
    public synchronized void rejectWhen(Predicate<Event> predicate) {
        this.rejectWhen = Objects.requireNonNull(predicate, "predicate");
    }

    /** Forgets what was delivered. */
    public synchronized void clear() {
        delivered.clear();
    }

    @Override
    public void close() {}

    @Override
    public synchronized String toString() {
        return "InMemorySink{delivered=" + delivered.size() + '}';
    }
}
