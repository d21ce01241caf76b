package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgbridge.spi.PublishResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Strict order ({@code delivery.strict-order}), as one invariant: no event is handed to the sink while an earlier
 * event of its route is unconfirmed (neither confirmed nor dead-lettered). Checked by the sink itself on every call,
 * over any routing of up to 80 events to three routes, four delivery threads, and any script of confirmations,
 * retryable failures (after which the broker may hold the event anyway, as after a mandatory return) and refusals for
 * good (to a dead-letter handler). Consequences checked too: every event arrives or is dead-lettered, and per route the
 * first copies keep the source's order.
 */
class StrictOrderPropertyTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final List<String> CHANNELS = List.of("a", "b", "c");

    enum Outcome {
        CONFIRM,
        FAIL_NOT_TAKEN,
        FAIL_BUT_TAKEN,
        REFUSE
    }

    @Provide
    Arbitrary<List<Outcome>> script() {
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(6, Arbitraries.just(Outcome.CONFIRM)),
                        net.jqwik.api.Tuple.of(2, Arbitraries.just(Outcome.FAIL_NOT_TAKEN)),
                        net.jqwik.api.Tuple.of(2, Arbitraries.just(Outcome.FAIL_BUT_TAKEN)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.just(Outcome.REFUSE)))
                .list()
                .ofMaxSize(60);
    }

    @Property(tries = 40)
    void noEventIsPublishedWhileAnEarlierOneOfItsRouteIsUnconfirmed(
            @ForAll @Size(min = 1, max = 80) List<@IntRange(min = 0, max = 2) Integer> routeOfEvent,
            @ForAll("script") List<Outcome> script)
            throws Exception {
        Broker broker = new Broker(script);
        ScriptedSource source = new ScriptedSource();
        try (PgBridge bridge = PgBridge.builder()
                .postgres("postgresql://localhost/unused")
                .routes("a->queue:a, b->queue:b, c->queue:c")
                .source(source)
                .sink(broker)
                .strictOrder(true)
                .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(2))
                .deadLetterHandler((event, target, reason) -> broker.settle(event))
                .build()) {
            bridge.start();
            for (int r : routeOfEvent) {
                source.publish(CHANNELS.get(r), "x");
            }
            await().atMost(WAIT).until(() -> source.acknowledged.contains((long) routeOfEvent.size()));
        }

        assertThat(broker.violations)
                .as("publishes while an earlier event of the route was unconfirmed")
                .isEmpty();
        for (String channel : CHANNELS) {
            List<String> published = new ArrayList<>();
            for (int i = 0; i < routeOfEvent.size(); i++) {
                if (CHANNELS.get(routeOfEvent.get(i)).equals(channel)) {
                    published.add("e" + (i + 1));
                }
            }
            List<String> firstCopies = new ArrayList<>(new LinkedHashSet<>(broker.held(channel)));
            List<String> expected = new ArrayList<>(published);
            expected.removeIf(id -> broker.deadLettered.contains(id) && !firstCopies.contains(id));
            assertThat(firstCopies)
                    .as("route %s: first copies in the source's order, every event held unless dead-lettered", channel)
                    .isEqualTo(expected);
        }
    }

    @Example
    void contradictsAMaxBatchOtherThanOne() {
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://localhost/unused")
                        .routes("a->queue:a")
                        .sink(new InMemorySink())
                        .strictOrder(true)
                        .maxBatchSize(50)
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_DELIVERY_MAX_BATCH='50'")
                .hasMessageContaining("contradicts PGBRIDGE_DELIVERY_STRICT_ORDER=true");
        assertThat(PgBridge.builder()
                        .postgres("postgresql://localhost/unused")
                        .routes("a->queue:a")
                        .sink(new InMemorySink())
                        .settings(Map.of("delivery.strict-order", "true", "delivery.max-batch", "1"))
                        .build())
                .as("a max batch of 1 agrees with strict order")
                .isNotNull();
    }

    /**
     * A broker answering each publish call by the next outcome of a script (then confirming), which checks on every
     * call that the sink got one event and that every earlier event of its route is settled.
     */
    private static final class Broker extends TestSink {
        final List<String> violations = new CopyOnWriteArrayList<>();
        final Set<String> deadLettered = ConcurrentHashMap.newKeySet();
        private final List<Outcome> script;
        private final AtomicInteger call = new AtomicInteger();
        private final Map<String, List<String>> held = new ConcurrentHashMap<>();
        private final Map<String, List<String>> sentUnsettled = new ConcurrentHashMap<>();
        private final Set<String> settled = ConcurrentHashMap.newKeySet();
        private final Map<String, Integer> lastSeq = new ConcurrentHashMap<>();

        Broker(List<Outcome> script) {
            super("scripted-broker");
            this.script = script;
        }

        List<String> held(String channel) {
            return held.getOrDefault(channel, List.of());
        }

        void settle(Event event) {
            deadLettered.add(event.id());
            settled.add(event.id());
        }

        @Override
        public PublishResult publish(Target target, List<Event> events) {
            String channel = events.get(0).channel();
            if (events.size() != 1) {
                violations.add(events.size() + " events in one call on " + channel);
            }
            // every earlier event of the route handed to the broker must be settled by now
            List<String> sent =
                    sentUnsettled.computeIfAbsent(channel, c -> Collections.synchronizedList(new ArrayList<>()));
            int seq = Integer.parseInt(events.get(0).id().substring(1));
            for (String earlier : List.copyOf(sent)) {
                int earlierSeq = Integer.parseInt(earlier.substring(1));
                if (earlierSeq < seq && !settled.contains(earlier)) {
                    violations.add(events.get(0).id() + " published while " + earlier + " was unconfirmed");
                }
            }
            Integer last = lastSeq.get(channel);
            if (last != null && seq < last) {
                violations.add(events.get(0).id() + " published after e" + last + " of the same route");
            }
            lastSeq.put(channel, seq);
            for (Event e : events) {
                sent.add(e.id());
            }
            int n = call.getAndIncrement();
            Outcome outcome = n < script.size() ? script.get(n) : Outcome.CONFIRM;
            List<String> queue = held.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>());
            switch (outcome) {
                case CONFIRM -> {
                    events.forEach(e -> queue.add(e.id()));
                    events.forEach(e -> settled.add(e.id()));
                    return PublishResult.confirmed(events.size());
                }
                case FAIL_BUT_TAKEN -> {
                    events.forEach(e -> queue.add(e.id()));
                    return PublishResult.failed(0, "nacked after the queue took it", null);
                }
                case FAIL_NOT_TAKEN -> {
                    return PublishResult.failed(0, "broker down", null);
                }
                default -> {
                    return PublishResult.rejected(0, "too large");
                }
            }
        }
    }
}
