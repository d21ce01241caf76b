package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pipeline's ordering, retry, dead-letter, backpressure and drain behaviour, with a sink that fails on demand. */
class PipelineTest {
    private final InMemorySink sink = new InMemorySink();
    private final ScriptedSource source = new ScriptedSource();
    private PgBridge bridge;

    @AfterEach
    void close() {
        if (bridge != null) {
            bridge.close();
        }
    }

    @Test
    void deliversEachRouteInOrder() throws Exception {
        bridge = source.bridgeTo(sink).maxBatchSize(7).build();
        bridge.start();
        for (int i = 0; i < 1000; i++) {
            source.publish(i % 2 == 0 ? "a" : "b", Integer.toString(i));
        }

        sink.await(1000, Duration.ofSeconds(10));
        assertThat(payloadsOn("a"))
                .isEqualTo(IntStream.range(0, 1000)
                        .filter(i -> i % 2 == 0)
                        .mapToObj(Integer::toString)
                        .collect(Collectors.toList()));
        assertThat(payloadsOn("b"))
                .isEqualTo(IntStream.range(0, 1000)
                        .filter(i -> i % 2 == 1)
                        .mapToObj(Integer::toString)
                        .collect(Collectors.toList()));
        await().untilAsserted(() -> assertThat(source.acknowledged).last().isEqualTo(1000L));
    }

    @Test
    void retriesAFailedEventBeforeAnythingBehindIt() throws Exception {
        bridge = source.bridgeTo(sink).maxBatchSize(1).build();
        bridge.start();
        sink.failNext(3);
        for (int i = 0; i < 20; i++) {
            source.publish("a", Integer.toString(i));
        }

        sink.await(20, Duration.ofSeconds(10));
        assertThat(payloadsOn("a"))
                .as("no gap, no reordering, no duplicates with batch size 1")
                .isEqualTo(IntStream.range(0, 20).mapToObj(Integer::toString).collect(Collectors.toList()));
        assertThat(bridge.stats().retries()).isEqualTo(3);
    }

    @Test
    void holdsBackOnlyTheFailingLane() throws Exception {
        AtomicBoolean laneADown = new AtomicBoolean(true);
        Sink failingOnA = new TestSink("fails-on-a") {
            @Override
            public PublishResult publish(Target target, List<Event> events) {
                if (target.name().equals("a") && laneADown.get()) {
                    return PublishResult.failed(0, "lane a is down", null);
                }
                return sink.publish(target, events);
            }
        };
        bridge = source.bridgeTo(sink).sink(failingOnA).build();
        bridge.start();
        source.publish("a", "first");
        source.publish("b", "second");

        sink.await(1, Duration.ofSeconds(10));
        assertThat(payloadsOn("b")).as("lane b is not held back by lane a").containsExactly("second");
        await().until(() -> bridge.stats().retries() > 2);
        assertThat(source.acknowledged)
                .as("position 2 is confirmed, but 1 is not: nothing to acknowledge")
                .isEmpty();

        laneADown.set(false);
        await().untilAsserted(() -> assertThat(source.acknowledged).containsExactly(2L));
        assertThat(payloadsOn("a")).containsExactly("first");
    }

    @Test
    void sendsRefusedEventsToTheDeadLetterHandlerAndMovesOn() throws Exception {
        List<String> dead = new CopyOnWriteArrayList<>();
        bridge = source.bridgeTo(sink)
                .deadLetterHandler((event, target, reason) -> dead.add(event.payloadAsString() + ": " + reason))
                .build();
        sink.rejectWhen(e -> e.payloadAsString().equals("poison"));
        bridge.start();
        source.publish("a", "1");
        source.publish("a", "poison");
        source.publish("a", "3");

        sink.await(2, Duration.ofSeconds(10));
        assertThat(payloadsOn("a")).containsExactly("1", "3");
        assertThat(dead).containsExactly("poison: in-memory sink rejects event e2");
        await().untilAsserted(() -> assertThat(source.acknowledged).last().isEqualTo(3L));
        assertThat(bridge.stats().deadLettered()).isEqualTo(1);
    }

    @Test
    void blocksTheSourceWhenTheBufferIsFull() throws Exception {
        bridge = source.bridgeTo(sink).bufferMaxEvents(5).build();
        bridge.start();
        sink.setAvailable(false);
        Thread producer = new Thread(() -> {
            try {
                for (int i = 0; i < 10; i++) {
                    source.publish("a", Integer.toString(i));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        producer.start();

        await().until(() -> bridge.stats().received() == 5 && producer.getState() == Thread.State.WAITING);
        assertThat(bridge.stats().inFlightEvents()).isEqualTo(5);

        sink.setAvailable(true);
        producer.join(10_000);
        sink.await(10, Duration.ofSeconds(10));
        assertThat(payloadsOn("a")).hasSize(10);
    }

    @Test
    void deferredEventsWaitForAFlushThenArriveInOrder() throws Exception {
        bridge = source.bridgeTo(sink).build();
        bridge.start();
        for (int i = 0; i < 10; i++) {
            assertThat(source.publishDeferred("a", Integer.toString(i), Duration.ofSeconds(1)))
                    .as("room for event %d", i)
                    .isTrue();
        }
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> payloadsOn("a")
                .isEmpty());

        source.flush();
        sink.await(10, Duration.ofSeconds(10));
        assertThat(payloadsOn("a"))
                .as("all of them after the flush, in order")
                .isEqualTo(IntStream.range(0, 10).mapToObj(Integer::toString).collect(Collectors.toList()));
        await().untilAsserted(() -> assertThat(source.acknowledged).last().isEqualTo(10L));
    }

    @Test
    void deferredEventsGoOnWithoutAFlushOnceABatchIsHeld() throws Exception {
        bridge = source.bridgeTo(sink).build();
        bridge.start();
        for (int i = 0; i < 300; i++) {
            source.publishDeferred(i % 2 == 0 ? "a" : "b", Integer.toString(i), Duration.ofSeconds(1));
        }

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(payloadsOn("a"))
                .as("lane a woke by itself after a batch of held events")
                .hasSizeGreaterThanOrEqualTo(128));
        source.flush();
        sink.await(300, Duration.ofSeconds(10));
        assertThat(payloadsOn("a"))
                .as("order per lane")
                .isEqualTo(IntStream.range(0, 300)
                        .filter(i -> i % 2 == 0)
                        .mapToObj(Integer::toString)
                        .collect(Collectors.toList()));
    }

    @Test
    void deferredPublishingLetsHeldEventsGoWhenTheBufferIsFull() throws Exception {
        bridge = source.bridgeTo(sink).bufferMaxEvents(5).build();
        bridge.start();
        for (int i = 0; i < 20; i++) {
            assertThat(source.publishDeferred("a", Integer.toString(i), Duration.ofSeconds(5)))
                    .as("event %d taken: the held events were sent on instead of filling the buffer for good", i)
                    .isTrue();
        }
        source.flush();

        sink.await(20, Duration.ofSeconds(10));
        assertThat(payloadsOn("a")).hasSize(20);
    }

    @Test
    void closeDrainsInFlightEvents() throws Exception {
        bridge = source.bridgeTo(sink).build();
        bridge.start();
        sink.setAvailable(false);
        for (int i = 0; i < 50; i++) {
            source.publish("a", Integer.toString(i));
        }
        Thread closer = new Thread(bridge::close);
        closer.start();
        await().until(() -> bridge.state() == PgBridge.State.STOPPING);
        sink.setAvailable(true);
        closer.join(10_000);

        assertThat(bridge.state()).isEqualTo(PgBridge.State.CLOSED);
        assertThat(payloadsOn("a")).hasSize(50);
        assertThat(source.acknowledged).last().isEqualTo(50L);
    }

    @Test
    void keepsTheSetNumberOfBatchesInFlightWithAPipeliningSink() throws Exception {
        List<CompletableFuture<PublishResult>> inFlight = new CopyOnWriteArrayList<>();
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        CountDownLatch allPublished = new CountDownLatch(1);
        Sink pipelining = new TestSink("pipelining") {
            @Override
            public PublishResult publish(Target target, List<Event> events) {
                throw new AssertionError("the lane publishes through publishAsync");
            }

            @Override
            public CompletionStage<PublishResult> publishAsync(Target target, List<Event> events)
                    throws InterruptedException {
                if (inFlight.isEmpty()) {
                    allPublished.await(); // the lane tops up from what the source queued meanwhile
                }
                CompletableFuture<PublishResult> result = new CompletableFuture<>();
                sizes.add(events.size());
                inFlight.add(result);
                return result;
            }
        };
        bridge = source.bridgeTo(pipelining)
                .maxBatchSize(2)
                .maxBatchesInFlight(6)
                .shutdownTimeout(Duration.ZERO) // the batches left in flight are never confirmed
                .build();
        bridge.start();
        for (int i = 0; i < 20; i++) {
            source.publish("a", Integer.toString(i));
        }
        allPublished.countDown();

        await().untilAsserted(() ->
                assertThat(inFlight).as("batches handed to the sink").hasSize(6));
        assertThat(source.acknowledged).as("nothing confirmed yet").isEmpty();

        inFlight.get(0).complete(PublishResult.confirmed(sizes.get(0)));
        await().untilAsserted(() ->
                assertThat(inFlight).as("one more once the oldest is confirmed").hasSize(7));
        await().untilAsserted(() -> assertThat(source.acknowledged).containsExactly((long) sizes.get(0)));
    }

    @Test
    void namesItsThreadsAndUsesTheCallersFactory() throws Exception {
        List<String> names = new CopyOnWriteArrayList<>();
        bridge = source.bridgeTo(sink)
                .threadFactory(r -> {
                    Thread t = new Thread(r);
                    t.setDaemon(true);
                    names.add("created");
                    return t;
                })
                .build();
        bridge.start();
        source.publish("a", "x");
        sink.await(1, Duration.ofSeconds(5));

        assertThat(names).isNotEmpty();
        assertThat(Thread.getAllStackTraces().keySet().stream().map(Thread::getName))
                .anyMatch(n -> n.startsWith("pgbridge-delivery-"));
    }

    private List<String> payloadsOn(String queue) {
        return sink.deliveries().stream()
                .filter(d -> d.target().name().equals(queue))
                .map(d -> d.event().payloadAsString())
                .collect(Collectors.toList());
    }
}
