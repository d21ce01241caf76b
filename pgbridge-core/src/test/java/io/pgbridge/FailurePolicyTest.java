package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the pipeline does with failures: bounded duplicates after retries, a route that halts rather than drops, the
 * dead-letter destinations, undecodable events, sinks that misbehave, and a stuck route that keeps its hands off the
 * others. Every check goes through the public API (builder, stats) with an in-process source and sink.
 */
class FailurePolicyTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final InMemorySink sink = new InMemorySink();
    private PgBridge bridge;

    @AfterEach
    void close() {
        if (bridge != null) {
            bridge.close();
        }
    }

    private RouteStats route(String channel) {
        return bridge.stats().routes().stream()
                .filter(r -> r.route().channel().equals(channel))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void anEventRefusedForGoodHaltsItsRouteUntilTheSinkTakesIt() throws Exception {
        ScriptedSource source = new ScriptedSource();
        bridge = source.bridgeTo(sink).build();
        sink.rejectWhen(e -> e.payloadAsString().equals("poison"));
        bridge.start();
        source.publish("a", "1");
        source.publish("a", "poison");
        source.publish("a", "3");
        source.publish("b", "4");

        await().atMost(WAIT).untilAsserted(() -> assertThat(route("a").state()).isEqualTo(RouteState.HALTED));
        RouteStats a = route("a");
        assertThat(a.lastError()).as("the reason is shown").contains("rejects event e2");
        assertThat(a.since()).as("since when").isNotNull();
        assertThat(a.queued())
                .as("the refused event and the one behind it wait")
                .isEqualTo(2);
        await().atMost(WAIT).until(() -> sink.payloads().contains("4"));
        assertThat(route("b").state()).as("the other route goes on").isEqualTo(RouteState.DELIVERING);
        assertThat(sink.payloads())
                .as("nothing behind the refused event moved (routes a and b interleave in any order)")
                .containsExactlyInAnyOrder("1", "4");
        assertThat(source.acknowledged)
                .as("acknowledged up to the event before the refused one")
                .containsExactly(1L);
        assertThat(bridge.stats().deadLettered()).as("nothing dropped").isZero();

        sink.rejectWhen(e -> false); // the operator fixed the cause
        await().atMost(WAIT).untilAsserted(() -> assertThat(payloadsTo("a")).containsExactly("1", "poison", "3"));
        assertThat(payloadsTo("b")).containsExactly("4");
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(source.acknowledged).last().isEqualTo(4L));
        assertThat(route("a").state()).isEqualTo(RouteState.DELIVERING);
        assertThat(route("a").lastError()).isNull();
    }

    @Test
    void anAtMostOnceSourceDropsARefusedEventWithALogLineAndGoesOn() throws Exception {
        ScriptedSource source = new ScriptedSource(DeliveryGuarantee.AT_MOST_ONCE);
        bridge = source.bridgeTo(sink).build();
        sink.rejectWhen(e -> e.payloadAsString().equals("poison"));
        bridge.start();
        source.publish("a", "poison");
        source.publish("a", "2");

        await().atMost(WAIT).untilAsserted(() -> assertThat(sink.payloads()).containsExactly("2"));
        assertThat(bridge.stats().deadLettered()).isEqualTo(1);
        assertThat(bridge.stats().sources().get(0).guarantee()).isEqualTo(DeliveryGuarantee.AT_MOST_ONCE);
    }

    @Test
    void aDeadLetterTargetOnTheSinkTakesRefusedEventsWithTheReason() throws Exception {
        ScriptedSource source = new ScriptedSource();
        bridge = source.bridgeTo(sink)
                .setting("dead-letter.target", "queue:dead")
                .build();
        sink.rejectWhen(
                e -> e.payloadAsString().equals("poison") && !e.headers().containsKey("pgbridge-dead-letter-reason"));
        bridge.start();
        source.publish("a", "poison");
        source.publish("a", "2");

        await().atMost(WAIT).untilAsserted(() -> assertThat(sink.payloads()).containsExactly("poison", "2"));
        InMemorySink.Delivered letter = sink.deliveries().get(0);
        assertThat(letter.target()).isEqualTo(Target.queue("dead"));
        assertThat(letter.event().headers())
                .containsEntry("pgbridge-dead-letter-target", "queue:a")
                .hasEntrySatisfying(
                        "pgbridge-dead-letter-reason", r -> assertThat(r).contains("rejects event e1"));
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(source.acknowledged).last().isEqualTo(2L));
    }

    @Test
    void anUndecodableEventNeverReachesTheSinkAndGoesToTheFailurePolicy() throws Exception {
        ScriptedSource source = new ScriptedSource();
        List<String> dead = new CopyOnWriteArrayList<>();
        bridge = source.bridgeTo(sink)
                .deadLetterHandler((event, target, reason) -> dead.add(event.id() + " " + reason))
                .build();
        bridge.start();
        source.publish("a", "1");
        source.publishUndecodable("a", "{broken", "payload is not JSON");
        source.publish("a", "3");

        await().atMost(WAIT).untilAsserted(() -> assertThat(sink.payloads()).containsExactly("1", "3"));
        assertThat(dead).containsExactly("e2 the source could not decode it: payload is not JSON");
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(source.acknowledged).last().isEqualTo(3L));
    }

    @Test
    void aSinkThatThrowsAnErrorOrAnswersNonsenseFailsTheAttemptAndTheLaneGoesOn() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Sink misbehaving = scripted(events -> switch (calls.incrementAndGet()) {
            case 1 -> throw new AssertionError("a sink bug");
            case 2 -> PublishResult.rejected(events.size(), "rejects one past the end");
            case 3 -> PublishResult.confirmed(events.size() + 1);
            default -> sink.publish(Target.queue("a"), events);
        });
        ScriptedSource source = new ScriptedSource();
        bridge = source.bridgeTo(misbehaving).build();
        bridge.start();
        source.publish("a", "1");
        source.publish("a", "2");

        await().atMost(WAIT).untilAsserted(() -> assertThat(sink.payloads()).containsExactly("1", "2"));
        assertThat(bridge.stats().retries()).as("three failed attempts").isEqualTo(3);
        assertThat(bridge.stats().deadLettered())
                .as("nothing dead-lettered that was never refused")
                .isZero();
        assertThat(route("a").state()).isEqualTo(RouteState.DELIVERING);
    }

    /**
     * A broker that takes a whole batch but reports its first event failed (as a mandatory return or a nack of the
     * first message does) {@code failures} times: the duplicates it holds afterwards are the rest of the first failed
     * batch, whatever the number of retries.
     */
    @Test
    void duplicatesAfterAFailureDoNotGrowWithTheNumberOfRetries() throws Exception {
        assertThat(duplicatesAfter(6))
                .as("after 6 retries as after 1")
                .isEqualTo(duplicatesAfter(1))
                .isEqualTo(9);
    }

    private int duplicatesAfter(int failures) throws Exception {
        List<String> queue = new CopyOnWriteArrayList<>();
        AtomicInteger left = new AtomicInteger(failures);
        Sink broker = scripted(events -> {
            boolean fail = left.getAndDecrement() > 0;
            for (int i = fail ? 1 : 0; i < events.size(); i++) {
                queue.add(events.get(i).id());
            }
            return fail
                    ? PublishResult.failed(0, "returned: unroutable", null)
                    : PublishResult.confirmed(events.size());
        });
        ScriptedSource source = new ScriptedSource();
        PgBridge b = source.bridgeTo(broker).build();
        try {
            b.start();
            source.publishDeferred("a", "x", WAIT);
            for (int i = 1; i < 10; i++) {
                source.publishDeferred("a", "x", WAIT);
            }
            source.flush();
            await().atMost(WAIT).until(() -> new HashSet<>(queue).size() == 10);
            await().atMost(WAIT).until(() -> b.stats().inFlightEvents() == 0);
        } finally {
            b.close();
        }
        return queue.size() - new HashSet<>(queue).size();
    }

    @Test
    void aStuckRouteHoldsOnlyItsOwnEventsBackAndGivesAllRoomBack() throws Exception {
        Set<String> down = java.util.concurrent.ConcurrentHashMap.newKeySet();
        down.add("a");
        Sink sinkDownForA = scriptedByTarget(target -> events -> down.contains(target.name())
                ? PublishResult.failed(0, "queue " + target.name() + " is down", null)
                : sink.publish(target, events));
        ScriptedSource source = new ScriptedSource();
        bridge = source.bridgeTo(sinkDownForA).bufferMaxEvents(500).build();
        bridge.start();
        for (int i = 0; i < 400; i++) {
            source.publish(i % 4 == 0 ? "a" : "b", Integer.toString(i));
        }

        await().atMost(WAIT).until(() -> sink.payloads().size() == 300);
        assertThat(route("a").state()).isEqualTo(RouteState.RETRYING);
        assertThat(route("a").attempts()).isPositive();
        assertThat(route("b").state()).isEqualTo(RouteState.DELIVERING);
        assertThat(bridge.stats().sources().get(0).unsettled())
                .as("only route a's events are unsettled")
                .isEqualTo(100);

        down.clear();
        await().atMost(WAIT).until(() -> sink.payloads().size() == 400);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(bridge.stats().inFlightEvents()).as("room back to zero").isZero();
            assertThat(bridge.stats().inFlightBytes()).isZero();
        });
        assertThat(source.acknowledged).last().isEqualTo(400L);
    }

    private List<String> payloadsTo(String queue) {
        return sink.deliveries().stream()
                .filter(d -> d.target().name().equals(queue))
                .map(d -> d.event().payloadAsString())
                .toList();
    }

    private static Sink scripted(Function<List<Event>, PublishResult> publish) {
        return scriptedByTarget(target -> publish);
    }

    private static Sink scriptedByTarget(Function<Target, Function<List<Event>, PublishResult>> publish) {
        return new TestSink("scripted") {
            @Override
            public PublishResult publish(Target target, List<Event> events) {
                return publish.apply(target).apply(new ArrayList<>(events));
            }
        };
    }
}
