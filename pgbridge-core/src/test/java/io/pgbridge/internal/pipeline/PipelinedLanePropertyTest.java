package io.pgbridge.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.TestSink;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * Lanes with several batches in flight ({@link Sink#publishAsync}), over every interleaving jqwik tries of: the
 * source publishing on two routes, lanes running, retry timers firing, and the broker deciding any batch in flight, in
 * any order, as confirmed, failed at any event (the event taken or not, the later ones of the batch taken: RabbitMQ
 * enqueues what it routed, in the order it was sent), refused for good at any event the broker never took (a refusal for good is the event's own, such as a routing
 * key too long: to a dead-letter destination), or a stage completing
 * exceptionally (nothing confirmed, all taken). Checked on every step:
 *
 * <ul>
 *   <li>the ledger invariant: every acknowledged position is at or above every event the broker confirmed or the
 *       dead-letter destination took, and never above one that neither did;
 *   <li>a route has at most {@code max-batches-in-flight} batches in flight, and with {@code max-batch} 1 (strict
 *       order) one event;
 *   <li>a batch is the route's next events with no gap: either those right after the last published one, or (after a
 *       failure) a batch again, then only when nothing of the route is in flight and skipping no event that was
 *       neither confirmed nor dead-lettered.
 * </ul>
 *
 * And at the end, once every batch is confirmed: every event is held or dead-lettered, the last position is
 * acknowledged, and the order docs/sinks.md promises: the last copies of each route in the source's order, and a
 * first copy ahead of an earlier event <i>e</i> only when it was published while an attempt of <i>e</i> was in flight
 * as far as the lane knew (after that attempt and before the lane published again from <i>e</i>), and at most {@code
 * max-batches-in-flight × max-batch − 1} events of the route ahead of <i>e</i> (one event with {@code max-batch} 1).
 */
class PipelinedLanePropertyTest {
    private static final List<String> ROUTES = List.of("a", "b");

    enum Outcome {
        CONFIRM,
        FAIL_NOT_TAKEN,
        FAIL_BUT_TAKEN,
        REFUSE,
        EXCEPTIONAL
    }

    sealed interface Action {}

    record Publish(int route) implements Action {}

    record RunLane(int pick) implements Action {}

    record FireRetry(int pick) implements Action {}

    record Decide(int pick, Outcome outcome, int at) implements Action {}

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.integers().between(0, 1).map(Publish::new)),
                Tuple.of(5, Arbitraries.integers().between(0, 5).map(RunLane::new)),
                Tuple.of(1, Arbitraries.integers().between(0, 5).map(FireRetry::new)),
                Tuple.of(
                        5,
                        Combinators.combine(
                                        Arbitraries.integers().between(0, 9),
                                        Arbitraries.frequency(
                                                Tuple.of(6, Outcome.CONFIRM),
                                                Tuple.of(2, Outcome.FAIL_NOT_TAKEN),
                                                Tuple.of(2, Outcome.FAIL_BUT_TAKEN),
                                                Tuple.of(1, Outcome.REFUSE),
                                                Tuple.of(1, Outcome.EXCEPTIONAL)),
                                        Arbitraries.integers().between(0, 9))
                                .as(Decide::new)));
        return action.list().ofMaxSize(150);
    }

    @Property(tries = 1500)
    void settlesInOrderAndAcknowledgesOnlyConfirmedEvents(
            @ForAll("actions") List<Action> actions,
            @ForAll @IntRange(min = 1, max = 3) int maxBatch,
            @ForAll @IntRange(min = 1, max = 6) int maxBatchesInFlight) {
        Run run = new Run(maxBatch, maxBatchesInFlight);
        for (Action action : actions) {
            if (action instanceof Publish p) {
                run.publish(p.route());
            } else if (action instanceof RunLane r) {
                run.pipeline.runLane(r.pick());
            } else if (action instanceof FireRetry f) {
                run.pipeline.fireRetry(f.pick());
            } else if (action instanceof Decide d) {
                run.broker.decide(d.pick(), d.outcome(), d.at());
            }
            run.checkAcknowledgements();
        }
        // Then the broker confirms everything until the lanes are done.
        for (int step = 0; step < 100_000 && !(run.pipeline.quiet() && run.broker.inFlight.isEmpty()); step++) {
            if (!run.broker.inFlight.isEmpty()) {
                run.broker.decide(0, Outcome.CONFIRM, 0);
            } else if (!run.pipeline.runLane(0)) {
                run.pipeline.fireRetry(0);
            }
            run.checkAcknowledgements();
        }
        assertThat(run.broker.violations)
                .as("violations while publishing; history %s", run.broker.history)
                .isEmpty();
        assertThat(run.pipeline.quiet() && run.broker.inFlight.isEmpty())
                .as("lanes done")
                .isTrue();
        if (run.position > 0) {
            assertThat(run.acknowledged).as("last position acknowledged").isEqualTo(run.position);
        }
        for (String route : ROUTES) {
            run.checkOrder(route);
        }
    }

    /** One try: a source, the pipeline, and the broker model. */
    private static final class Run implements EventSource {
        final Broker broker = new Broker();
        final ManualPipeline pipeline;
        final SourceContext context;
        final Map<String, List<String>> published = new HashMap<>(); // per route, the source's order
        final Map<String, Long> positionOf = new HashMap<>();
        final Set<String> deadLettered = new HashSet<>();
        final int maxBatch;
        /** Batches of a route in flight at most: {@code max-batches-in-flight}, one with {@code max-batch} 1. */
        final int window;

        long position;
        long acknowledged = Long.MIN_VALUE;

        Run(int maxBatch, int maxBatchesInFlight) {
            this.maxBatch = maxBatch;
            this.window = maxBatch == 1 ? 1 : maxBatchesInFlight;
            this.pipeline = new ManualPipeline(
                    List.of(Route.of("a", Target.queue("a")), Route.of("b", Target.queue("b"))),
                    broker,
                    (event, target, reason) -> deadLettered.add(event.id()),
                    maxBatch,
                    maxBatchesInFlight,
                    1_000);
            this.context = pipeline.attach(this);
        }

        void publish(int route) {
            String channel = ROUTES.get(route);
            position++;
            String id = channel + position;
            published.computeIfAbsent(channel, c -> new ArrayList<>()).add(id);
            positionOf.put(id, position);
            try {
                context.publish(Event.builder()
                        .id(id)
                        .source("wal")
                        .channel(channel)
                        .payload("x")
                        .position(position)
                        .build());
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            context.seal(position);
        }

        /** The acknowledged position passes no event that is neither confirmed nor dead-lettered. */
        void checkAcknowledgements() {
            for (var e : positionOf.entrySet()) {
                if (e.getValue() <= acknowledged) {
                    assertThat(broker.confirmed.contains(e.getKey()) || deadLettered.contains(e.getKey()))
                            .as(
                                    "event %s at or below acknowledged position %d is confirmed or dead-lettered",
                                    e.getKey(), acknowledged)
                            .isTrue();
                }
            }
        }

        void checkOrder(String route) {
            List<String> source = published.getOrDefault(route, List.of());
            List<String> held = broker.held(route);
            for (String id : source) {
                assertThat(held.contains(id) || deadLettered.contains(id))
                        .as("%s held or dead-lettered", id)
                        .isTrue();
            }
            // Last copies: the source's order.
            List<String> last = new ArrayList<>();
            for (int i = held.size() - 1; i >= 0; i--) {
                if (!last.contains(held.get(i))) {
                    last.add(0, held.get(i));
                }
            }
            List<String> expected = new ArrayList<>(source);
            expected.retainAll(last);
            assertThat(last)
                    .as("route %s: last copies in the source's order; history %s", route, broker.history)
                    .isEqualTo(expected);
            // First copies: x ahead of an earlier e only when x went out while a failed attempt of e was in flight.
            List<String> first = new ArrayList<>(new LinkedHashSet<>(held));
            for (int xi = 0; xi < first.size(); xi++) {
                String x = first.get(xi);
                int ahead = 0;
                for (int ei = xi + 1; ei < first.size(); ei++) {
                    String e = first.get(ei);
                    if (source.indexOf(e) < source.indexOf(x)) {
                        assertThat(broker.inFlightWithFailed.getOrDefault(x, Set.of()))
                                .as("route %s: first copy of %s ahead of %s, with which it was in flight", route, x, e)
                                .contains(e);
                    }
                }
                for (String e : source.subList(0, source.indexOf(x))) {
                    if (first.indexOf(e) > xi) {
                        ahead++;
                    }
                }
                assertThat(ahead).as("events %s went ahead of", x).isLessThan(window * maxBatch);
            }
        }

        @Override
        public String name() {
            return "wal";
        }

        @Override
        public void start(SourceContext context) {}

        @Override
        public void acknowledge(long position) {
            assertThat(position).as("acknowledgements grow").isGreaterThan(acknowledged);
            acknowledged = position;
        }

        @Override
        public void stop() {}

        @Override
        public void close() {}

        /** The broker: batches in flight until the test decides them; what it holds per route, in wire order. */
        private final class Broker extends TestSink {
            final List<String> violations = new ArrayList<>();
            final Set<String> confirmed = new HashSet<>();
            /** Per route, every copy published, in wire order; a copy's slot is emptied when the broker drops it. */
            final Map<String, List<String>> wire = new HashMap<>();

            final List<Attempt> inFlight = new ArrayList<>();
            /**
             * Per route, the events published since the route last published again from an earlier event: all of
             * them were in flight together, as far as the lane knew (a batch may be decided at the broker before the
             * lane takes its result, which it does in publishing order).
             */
            final Map<String, List<String>> sinceResend = new HashMap<>();
            /** For each event, the events of its route in flight with it when it was published (per sinceResend). */
            final Map<String, Set<String>> inFlightWithFailed = new HashMap<>();
            /** Every publish and decision, for failure messages. */
            final List<String> history = new ArrayList<>();

            // route -> index in the source order of the last event of the last publish
            private final Map<String, Integer> lastPublished = new HashMap<>();

            private record Attempt(String route, List<String> ids, int slot, CompletableFuture<PublishResult> result) {}

            Broker() {
                super("scripted");
            }

            /** What the broker holds of a route, in the order it took it. */
            List<String> held(String route) {
                return wire.getOrDefault(route, List.of()).stream()
                        .filter(id -> id != null)
                        .toList();
            }

            @Override
            public PublishResult publish(Target target, List<Event> events) {
                throw new AssertionError("the lane publishes through publishAsync");
            }

            @Override
            public CompletionStage<PublishResult> publishAsync(Target target, List<Event> events) {
                String route = target.name();
                List<String> ids = events.stream().map(Event::id).toList();
                List<String> source = published.get(route);
                List<Attempt> ofRoute =
                        inFlight.stream().filter(a -> a.route.equals(route)).toList();
                if (ofRoute.size() >= window) {
                    violations.add(ids + " published with " + ofRoute.size() + " batches of " + route + " in flight");
                }
                int from = source.indexOf(ids.get(0));
                for (int i = 0; i < ids.size(); i++) {
                    if (source.indexOf(ids.get(i)) != from + i) {
                        violations.add(ids + ": not consecutive events of " + route);
                    }
                }
                int last = lastPublished.getOrDefault(route, -1);
                if (from != last + 1) {
                    if (!ofRoute.isEmpty()) {
                        violations.add(ids + " published again while " + route + " had batches in flight");
                    }
                    for (String earlier : source.subList(0, from)) {
                        if (!confirmed.contains(earlier) && !deadLettered.contains(earlier)) {
                            violations.add(ids + " published again, skipping " + earlier + ", never confirmed");
                        }
                    }
                }
                lastPublished.put(route, from + ids.size() - 1);
                List<String> onWire = wire.computeIfAbsent(route, r -> new ArrayList<>());
                Attempt attempt = new Attempt(route, ids, onWire.size(), new CompletableFuture<>());
                onWire.addAll(ids);
                List<String> window = sinceResend.computeIfAbsent(route, r -> new ArrayList<>());
                if (from != last + 1) {
                    window.clear();
                }
                for (String id : ids) {
                    inFlightWithFailed
                            .computeIfAbsent(id, k -> new HashSet<>())
                            .addAll(window); // earlier batches since the last resend, and its own batch's
                    window.add(id);
                }
                inFlight.add(attempt);
                history.add("publish " + ids);
                // The whole batch goes on the wire now; what the broker keeps is decided with its outcome.
                return attempt.result;
            }

            void decide(int pick, Outcome outcome, int at) {
                if (inFlight.isEmpty()) {
                    return;
                }
                Attempt a = inFlight.remove(pick % inFlight.size());
                List<String> onWire = wire.get(a.route);
                int k = at % a.ids.size();
                if (outcome == Outcome.REFUSE && held(a.route).contains(a.ids.get(k))) {
                    outcome = Outcome.FAIL_NOT_TAKEN; // a refusal for good is the event's own: never taken before
                }
                history.add(outcome + " " + a.ids + " at " + k);
                PublishResult result;
                switch (outcome) {
                    case CONFIRM -> {
                        confirmed.addAll(a.ids);
                        result = PublishResult.confirmed(a.ids.size());
                    }
                    case EXCEPTIONAL -> {
                        a.result.completeExceptionally(new IllegalStateException("connection lost"));
                        return;
                    }
                    default -> {
                        if (outcome != Outcome.FAIL_BUT_TAKEN) {
                            onWire.set(a.slot + k, null);
                        }
                        confirmed.addAll(a.ids.subList(0, k));
                        result = outcome == Outcome.REFUSE
                                ? PublishResult.rejected(k, "refused")
                                : PublishResult.failed(k, "failed", null);
                    }
                }
                a.result.complete(result);
            }
        }
    }
}
