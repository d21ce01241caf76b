package io.pgbridge.sinktck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.RouteStats;
import io.pgbridge.Target;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;

/**
 * One event refused by the real broker in the middle of a batch, retried by a real bridge ({@link PgBridge#builder()},
 * a sink instance, the pipeline's lanes) until the test fixes the cause: the scenario behind "duplicates after k
 * retries do not depend on k" (docs/sinks.md, "Order and duplicates after a refusal").
 *
 * <p>The events go to one route as <em>one</em> batch: the bridge's batch size is the number of events (at most 100),
 * and the source hands them over held back until the last one ({@link SourceContext#publishDeferred}). The
 * {@code refused}-th is the one the broker refuses; the events behind it in that batch are the most that can have been
 * with the broker at the failure. {@link #run} lets the bridge fail {@code retries} more times on the refused event
 * (it retries it alone), fixes the cause, and returns what the consumer received.
 *
 * <pre>{@code
 * Outcome two = RetriedRefusal.run(sink(), target, receiver, 40, 10, 2, shape, () -> bind(...));
 * Outcome eight = RetriedRefusal.run(sink(), target2, receiver2, 40, 10, 8, shape, () -> bind(...));
 * RetriedRefusal.assertRetriesAddNothing(two, eight, "unroutable", true);
 * }</pre>
 */
public final class RetriedRefusal {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String CHANNEL = "refusal";

    /** What the test does once the bridge retried enough: binds the queue, grants the topic, fixes the key. */
    @FunctionalInterface
    public interface Fix {
        void apply() throws Exception;
    }

    /**
     * What one run published and what its consumer received.
     *
     * @param published event ids in publish order
     * @param refused index of the refused event in {@code published}
     * @param retries failed retries of the refused event before the fix (beyond its first failure)
     * @param refusal the route's last error before the fix: the broker's refusal as the sink reported it
     * @param arrivals event ids in arrival order at the consumer, every copy
     */
    public record Outcome(List<String> published, int refused, int retries, String refusal, List<String> arrivals) {
        /** Copies beyond the first of each event. */
        public int duplicates() {
            return arrivals.size() - new LinkedHashSet<>(arrivals).size();
        }

        /** Each event once, where its first copy arrived. */
        public List<String> firstCopies() {
            return List.copyOf(new LinkedHashSet<>(arrivals));
        }

        /** Each event once, where its last copy arrived. */
        public List<String> lastCopies() {
            List<String> reversed = new ArrayList<>(arrivals);
            java.util.Collections.reverse(reversed);
            List<String> last = new ArrayList<>(new LinkedHashSet<>(reversed));
            java.util.Collections.reverse(last);
            return last;
        }

        /** The events behind the refused one in its batch: those that were with the broker at the failure. */
        public List<String> behindRefused() {
            return published.subList(refused + 1, published.size());
        }
    }

    private RetriedRefusal() {}

    /**
     * Publishes {@code count} events to {@code target} through a bridge around {@code sink}, waits until the refused
     * one failed {@code 1 + retries} times, runs {@code fix}, and waits until every event is settled and the consumer
     * has every event and received nothing more for a while.
     *
     * @param sink a new, unstarted sink; the bridge starts and closes it
     * @param receiver the consumer of {@code target}, already receiving
     * @param count events, 2 to 100
     * @param refused index of the event the broker will refuse (the test arranged it, by {@code shape})
     * @param shape gives event {@code i} what makes the broker take or refuse it (a routing key, a header)
     */
    public static Outcome run(
            Sink sink,
            Target target,
            Receiver receiver,
            int count,
            int refused,
            int retries,
            BiFunction<Integer, Event.Builder, Event.Builder> shape,
            Fix fix)
            throws Exception {
        if (count < 2 || count > 100 || refused < 0 || refused >= count || retries < 0) {
            throw new IllegalArgumentException("count 2..100, refused < count, retries >= 0");
        }
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<Event> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            events.add(shape.apply(
                            i,
                            Event.builder()
                                    .id(run + "-" + i)
                                    .source("refusal-test")
                                    .channel(CHANNEL)
                                    .payload(Integer.toString(i))
                                    .position(i + 1L))
                    .build());
        }
        OneBatchSource source = new OneBatchSource();
        String refusal;
        try (PgBridge bridge = PgBridge.builder()
                .postgres("postgresql://127.0.0.1/unused-by-this-source")
                .route(CHANNEL, target)
                .source(source)
                .sink(sink)
                .maxBatchSize(count)
                .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(80))
                .build()) {
            bridge.start();
            source.publishAll(events);
            await("the refused event failed 1 + " + retries + " times")
                    .atMost(WAIT)
                    .until(() -> route(bridge).attempts() >= retries + 1);
            assertThat(route(bridge).delivered())
                    .as("events before the refused one confirmed, none behind it")
                    .isEqualTo(refused);
            refusal = route(bridge).lastError();
            fix.apply();
            await("every event settled").atMost(WAIT).until(() -> source.acknowledged.get() == count);
        }
        List<String> ids = events.stream().map(Event::id).toList();
        await("every event at the consumer").atMost(WAIT).until(() -> eventIds(receiver)
                .containsAll(ids));
        int[] seen = {-1};
        await("no more copies arriving")
                .atMost(WAIT)
                .pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    int now = receiver.received().size();
                    boolean stable = now == seen[0];
                    seen[0] = now;
                    return stable;
                });
        return new Outcome(ids, refused, retries, refusal, eventIds(receiver));
    }

    private static RouteStats route(PgBridge bridge) {
        return bridge.stats().routes().get(0);
    }

    private static List<String> eventIds(Receiver receiver) {
        return receiver.received().stream()
                .map(r -> Objects.requireNonNull(r.eventId(), "the receiver must carry the event id"))
                .toList();
    }

    /**
     * Checks docs/sinks.md's promise on two runs that differ in their number of retries, whose refused event failed with
     * a reason containing {@code refusal}: every event arrives; the last
     * copies keep the publish order; the duplicates are the events behind the refused one when the broker took them
     * (a pipelined batch), none when it refused them too (or never saw them), in both runs alike; the first copies keep
     * the publish order except that those duplicated events come before the refused one.
     */
    public static void assertRetriesAddNothing(
            Outcome fewer, Outcome more, String refusal, boolean brokerTookTheEventsBehind) {
        assertThat(fewer.retries()).as("two different numbers of retries").isLessThan(more.retries());
        for (Outcome o : List.of(fewer, more)) {
            String run = "after " + o.retries() + " retries";
            assertThat(o.refusal()).as("%s: the broker's refusal", run).contains(refusal);
            assertThat(o.firstCopies())
                    .as("%s: every event arrives", run)
                    .containsExactlyInAnyOrderElementsOf(o.published());
            assertThat(o.lastCopies())
                    .as("%s: last copies in publish order", run)
                    .isEqualTo(o.published());
            List<String> behind = o.behindRefused();
            assertThat(o.duplicates())
                    .as("%s: duplicates are the events in flight behind the refused one", run)
                    .isEqualTo(brokerTookTheEventsBehind ? behind.size() : 0);
            List<String> first = new ArrayList<>(o.published().subList(0, o.refused()));
            if (brokerTookTheEventsBehind) {
                first.addAll(behind);
                first.add(o.published().get(o.refused()));
            } else {
                first.add(o.published().get(o.refused()));
                first.addAll(behind);
            }
            assertThat(o.firstCopies()).as("%s: first copies", run).isEqualTo(first);
        }
        assertThat(more.duplicates())
                .as("duplicates after %d retries as after %d", more.retries(), fewer.retries())
                .isEqualTo(fewer.duplicates());
    }

    /** Hands the test's events to the pipeline as one held-back batch; records the acknowledged position. */
    private static final class OneBatchSource implements EventSource {
        final AtomicLong acknowledged = new AtomicLong();
        private volatile SourceContext context;

        @Override
        public String name() {
            return "refusal-test";
        }

        @Override
        public void start(SourceContext context) {
            this.context = context;
        }

        void publishAll(List<Event> events) throws InterruptedException {
            for (Event e : events) {
                assertThat(context.publishDeferred(e, WAIT))
                        .as("taken by the pipeline")
                        .isTrue();
            }
            context.seal(events.get(events.size() - 1).position());
            context.flush();
        }

        @Override
        public void acknowledge(long position) {
            acknowledged.set(position);
        }

        @Override
        public void stop() {}

        @Override
        public void close() {}
    }
}
