package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConnectionConfig;
import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.Target;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several batches in flight with {@link MqttSink#publishAsync}, against a real Mosquitto that this test starts and
 * pauses (SIGSTOP): while it is paused no PUBACK can come, so a batch whose stage is still pending when the next call
 * returns is in flight with the next (the sink alone, and a whole route). Its ACL denies topics ending in
 * {@code /held} (an MQTT 5 PUBACK with NOT_AUTHORIZED, 0x87), and its Receive Maximum ({@code max_inflight_messages})
 * is far below the events in flight.
 */
class MqttPipeliningIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int RECEIVE_MAXIMUM = 10;
    private static final int BATCH = 200;

    @TempDir
    static Path dir;

    private static final String ACL = "topic read #\ntopic readwrite +/taken\n";

    private static PrivateMosquitto mosquitto;
    private static Path acl;

    @BeforeAll
    static void startPrivateBroker() throws Exception {
        acl = dir.resolve("acl");
        Files.writeString(acl, ACL);
        mosquitto = new PrivateMosquitto(
                dir, "allow_anonymous true", "acl_file " + acl, "max_inflight_messages " + RECEIVE_MAXIMUM);
    }

    @AfterAll
    static void stopPrivateBroker() throws Exception {
        if (mosquitto != null) {
            mosquitto.close();
        }
    }

    @Test
    void theBrokerAdvertisesAReceiveMaximumBelowTheEventsInFlight() throws Exception {
        Mqtt5AsyncClient probe = MqttClient.builder()
                .useMqttVersion5()
                .serverHost("127.0.0.1")
                .serverPort(mosquitto.uri(null).getPort())
                .buildAsync();
        probe.connect().get(10, TimeUnit.SECONDS);
        try {
            assertThat(probe.getConfig()
                            .getConnectionConfig()
                            .map(Mqtt5ClientConnectionConfig::getRestrictionsForClient)
                            .map(Mqtt5ClientConnectionConfig.RestrictionsForClient::getSendMaximum)
                            .orElseThrow())
                    .as("the QoS 1 flows the client may have open at once (Receive Maximum)")
                    .isEqualTo(RECEIVE_MAXIMUM);
        } finally {
            probe.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void severalBatchesAreInFlightAtOnceAndReachTheBrokerInOrder() throws Exception {
        String topic = "pgbridge-pipelining-" + UUID.randomUUID();
        Target target = Target.topic(topic);
        List<List<Event>> batches = List.of(batch(0, -1), batch(BATCH, -1), batch(2 * BATCH, -1), batch(3 * BATCH, -1));
        try (MqttReceiver receiver = new MqttReceiver(mosquitto.uri(null), topic + "/#");
                Sink sink = sink()) {
            sink.start();

            List<CompletableFuture<PublishResult>> results = publishWhileTheBrokerIsPaused(sink, target, batches);

            for (int i = 0; i < batches.size(); i++) {
                PublishResult r = results.get(i).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(r.isFailure()).as("batch %d failed (%s)", i, r).isFalse();
                assertThat(r.confirmed()).as("batch %d confirmed", i).isEqualTo(BATCH);
            }
            await().atMost(WAIT).until(() -> receiver.received().size() >= 4 * BATCH);
            assertThat(receivedPayloads(receiver.received()))
                    .as("every batch's events, in publishing order")
                    .containsExactlyElementsOf(payloads(batches));
        }
    }

    @Test
    void aFailureInAMiddleBatchConfirmsItsPrefixOnlyAndLeavesTheOtherBatchesTheirOwnResults() throws Exception {
        String topic = "pgbridge-pipelining-" + UUID.randomUUID();
        Target target = Target.topic(topic);
        int held = 37;
        List<List<Event>> batches = List.of(batch(0, -1), batch(BATCH, held), batch(2 * BATCH, -1));
        try (MqttReceiver receiver = new MqttReceiver(mosquitto.uri(null), topic + "/#");
                Sink sink = sink()) {
            sink.start();

            List<CompletableFuture<PublishResult>> results = publishWhileTheBrokerIsPaused(sink, target, batches);

            PublishResult first = results.get(0).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            PublishResult middle = results.get(1).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            PublishResult last = results.get(2).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(first.confirmed()).as("first batch (%s)", first).isEqualTo(BATCH);
            assertThat(first.isFailure()).as("first batch failed (%s)", first).isFalse();
            assertThat(middle.isFailure())
                    .as("middle batch failed (%s)", middle)
                    .isTrue();
            assertThat(middle.isPermanent()).as("refused for good (%s)", middle).isFalse();
            assertThat(middle.confirmed())
                    .as("middle batch: the events before the denied one (%s)", middle)
                    .isEqualTo(held);
            assertThat(middle.reason()).contains("NOT_AUTHORIZED", topic + "/held");
            assertThat(last.confirmed()).as("last batch (%s)", last).isEqualTo(BATCH);
            assertThat(last.isFailure()).as("last batch failed (%s)", last).isFalse();
            List<String> delivered = new ArrayList<>(payloads(batches));
            delivered.remove(BATCH + held);
            await().atMost(WAIT).until(() -> receiver.received().size() >= delivered.size());
            assertThat(receivedPayloads(receiver.received()))
                    .as("every event but the denied one, in publishing order")
                    .containsExactlyElementsOf(delivered);
        }
    }

    /**
     * The whole route: a lane with 4 batches of 10 in flight at the paused broker (the first publish is held until all
     * 40 events are queued, so that the lane hands over the next 3 at once), the ACL denying event 15, in the second
     * batch. Once the broker resumes, the lane confirms 15 events, retries event 15 alone until the ACL allows it, and
     * publishes the 24 events behind it again, which the broker had taken: {@code 4 × max-batch - 1} at most.
     */
    @Test
    void aRouteWithFourBatchesInFlightRepublishesOnlyTheEventsBehindARefusalInItsSecondBatch() throws Exception {
        String topic = "pgbridge-pipelining-" + UUID.randomUUID();
        int maxBatch = 10;
        int refused = 15;
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 4 * maxBatch; i++) {
            events.add(Event.builder()
                    .id("e" + i)
                    .source("test")
                    .channel("pipelining")
                    .routingKey(i == refused ? "held" : "taken")
                    .payload("event " + i)
                    .position(i + 1L)
                    .build());
        }
        CountDownLatch queued = new CountDownLatch(1);
        List<CompletableFuture<PublishResult>> stages = new CopyOnWriteArrayList<>();
        Sink sink = new Sink() {
            private final Sink mqtt = sink();

            @Override
            public String name() {
                return mqtt.name();
            }

            @Override
            public Set<String> targetKinds() {
                return mqtt.targetKinds();
            }

            @Override
            public void start() {
                mqtt.start();
            }

            @Override
            public PublishResult publish(Target target, List<Event> batch) throws InterruptedException {
                return mqtt.publish(target, batch);
            }

            @Override
            public CompletionStage<PublishResult> publishAsync(Target target, List<Event> batch)
                    throws InterruptedException {
                assertThat(queued.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .as("all events queued")
                        .isTrue();
                CompletableFuture<PublishResult> stage =
                        mqtt.publishAsync(target, batch).toCompletableFuture();
                stages.add(stage);
                return stage;
            }

            @Override
            public void close() {
                mqtt.close();
            }
        };
        AtomicLong acknowledged = new AtomicLong();
        SourceContext[] context = new SourceContext[1];
        EventSource source = new EventSource() {
            @Override
            public String name() {
                return "pipelining-test";
            }

            @Override
            public void start(SourceContext c) {
                context[0] = c;
            }

            @Override
            public void acknowledge(long position) {
                acknowledged.set(position);
            }

            @Override
            public void stop() {}

            @Override
            public void close() {}
        };
        try (MqttReceiver receiver = new MqttReceiver(mosquitto.uri(null), topic + "/#")) {
            try (PgBridge bridge = PgBridge.builder()
                    .postgres("postgresql://127.0.0.1/unused-by-this-source")
                    .route("pipelining", Target.topic(topic))
                    .source(source)
                    .sink(sink)
                    .maxBatchSize(maxBatch)
                    .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(80))
                    .build()) {
                bridge.start();
                mosquitto.signal("STOP");
                try {
                    for (Event e : events) {
                        assertThat(context[0].publishDeferred(e, WAIT))
                                .as("taken")
                                .isTrue();
                    }
                    context[0].seal(events.size());
                    context[0].flush();
                    queued.countDown();
                    await("4 batches handed to the sink").atMost(WAIT).until(() -> stages.size() == 4);
                    assertThat(stages)
                            .as("the 4 batches, while the broker is paused")
                            .noneMatch(CompletableFuture::isDone);
                } finally {
                    mosquitto.signal("CONT");
                }
                await("event " + refused + " failed and was retried twice")
                        .atMost(WAIT)
                        .until(() -> bridge.stats().routes().get(0).attempts() >= 3);
                assertThat(bridge.stats().routes().get(0).delivered())
                        .as("confirmed: the events before the refused one")
                        .isEqualTo(refused);
                assertThat(bridge.stats().routes().get(0).lastError()).contains("NOT_AUTHORIZED");
                Files.writeString(acl, "topic readwrite #\n");
                mosquitto.signal("HUP");
                await("every event settled").atMost(WAIT).until(() -> acknowledged.get() == events.size());
            } finally {
                Files.writeString(acl, ACL);
                mosquitto.signal("HUP");
            }
            List<String> ids = events.stream().map(Event::id).toList();
            List<String> behind = ids.subList(refused + 1, ids.size());
            await("every event and every copy of those behind the refused one")
                    .atMost(WAIT)
                    .until(() -> receiver.received().size() >= ids.size() + behind.size());
            List<String> arrivals =
                    receiver.received().stream().map(Received::eventId).toList();
            List<String> first = new ArrayList<>(ids.subList(0, refused));
            first.addAll(behind);
            first.add(ids.get(refused));
            first.addAll(behind);
            assertThat(arrivals)
                    .as("every copy: the 24 behind the refused event (with the broker at its refusal) again after it")
                    .containsExactlyElementsOf(first);
        }
    }

    /**
     * Pauses the broker, calls {@link Sink#publishAsync} for each batch and checks that each call returned with its
     * batch undecided, then resumes the broker.
     */
    private static List<CompletableFuture<PublishResult>> publishWhileTheBrokerIsPaused(
            Sink sink, Target target, List<List<Event>> batches) throws Exception {
        List<CompletableFuture<PublishResult>> results = new ArrayList<>();
        mosquitto.signal("STOP");
        try {
            for (List<Event> batch : batches) {
                results.add(sink.publishAsync(target, batch).toCompletableFuture());
            }
            for (int i = 0; i < results.size(); i++) {
                assertThat(results.get(i))
                        .as("batch %d of %d, while the broker is paused (%s)", i, batches.size(), results.get(i))
                        .isNotDone();
            }
        } finally {
            mosquitto.signal("CONT");
        }
        return results;
    }

    private static Sink sink() {
        return new MqttSinkProvider()
                .create(SinkCompatibilityKit.sinkConfig(
                        mosquitto.uri(null).toString(),
                        Map.of("mqtt.topic-separator", "/", "mqtt.publish-timeout-ms", "15000")));
    }

    /** {@value #BATCH} events numbered from {@code first}, the one at index {@code held} to a denied topic. */
    private static List<Event> batch(int first, int held) {
        List<Event> events = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            events.add(Event.builder()
                    .id(UUID.randomUUID().toString())
                    .source("test")
                    .channel("pipelining")
                    .routingKey(i == held ? "held" : "taken")
                    .payload("event " + (first + i))
                    .build());
        }
        return events;
    }

    private static List<String> payloads(List<List<Event>> batches) {
        return batches.stream()
                .flatMap(List::stream)
                .map(e -> new String(e.payload(), StandardCharsets.UTF_8))
                .toList();
    }

    private static List<String> receivedPayloads(Iterable<Received> received) {
        List<String> texts = new ArrayList<>();
        received.forEach(r -> texts.add(new String(r.payload(), StandardCharsets.UTF_8)));
        return texts;
    }
}
