package io.pgbridge.sinktck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Sink} keeps, proved against the real broker. A sink module extends this class in its
 * integration tests and says how to reach its broker:
 *
 * <pre>{@code
 * class MqttSinkCompatibilityIT extends BrokerSinkCompatibilityKit {
 *     protected Sink createSink(String uri) {
 *         return new MqttSinkProvider().create(sinkConfig(uri, Map.of("mqtt.publish-timeout-ms", "3000")));
 *     }
 *     protected String brokerUri() { return TestServices.mqttUrl(); }
 *     protected Target newTarget() { return Target.topic("kit/" + UUID.randomUUID()); }
 *     protected Receiver receiver(Target target) throws Exception { return new MqttReceiver(target.name()); }
 *     protected TestServices.Service service() { return TestServices.Service.MQTT; }
 * }
 * }</pre>
 *
 * <p>What it proves, one test each:
 *
 * <ul>
 *   <li>a batch arrives in order, and is reported confirmed in full;
 *   <li>{@link Sink#close()} loses nothing that was confirmed, also when it interrupts a publish in progress: every
 *       event a publish reported confirmed reaches the consumer;
 *   <li>payloads arrive byte for byte: 7999 bytes, non-ASCII text, empty and, where the protocol allows, binary;
 *   <li>the event id and headers travel with the message where the protocol has a place for them, and nothing is
 *       added to the payload where it has none.
 * </ul>
 *
 * <p>Sinks that connect to a broker or endpoint extend {@link BrokerSinkCompatibilityKit}, which adds what an
 * unreachable or stopped broker must do to them.
 *
 */
public abstract class SinkCompatibilityKit {
    /** The longest a test waits for the broker or the sink. */
    protected static final Duration WAIT = Duration.ofSeconds(30);

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final List<AutoCloseable> opened = new ArrayList<>();
    private Target target;
    private Sink sink;

    /** The started sink under test. */
    protected final Sink sink() {
        return sink;
    }

    /** This test's target. */
    protected final Target target() {
        return target;
    }

    /**
     * Creates a sink, not started, publishing to the broker at {@code uri} with a publish timeout of a few seconds.
     * {@link #sinkConfig} helps build what its provider needs.
     */
    protected abstract Sink createSink(String uri);

    /** The running broker's URI, such as {@link TestServices#mqttUrl()}. */
    protected abstract String brokerUri();

    /** A target no other test uses, such as a topic with a random suffix. */
    protected abstract Target newTarget();

    /** Opens a consumer of {@code target}; returns once it is ready to receive. The kit closes it. */
    protected abstract Receiver receiver(Target target) throws Exception;

    /** Removes what a test left on the broker (a stream, a queue); called after each test. Default: nothing. */
    protected void deleteTarget(Target target) throws Exception {}

    /** Whether the protocol carries the event id with the message (MQTT 3.1.1 cannot). Default: yes. */
    protected boolean carriesEventId() {
        return true;
    }

    /** Whether the protocol carries headers with the message (MQTT 3.1.1 cannot). Default: yes. */
    protected boolean carriesHeaders() {
        return true;
    }

    /** Whether payloads may hold any bytes, not only UTF-8 text. Default: yes. */
    protected boolean binarySafe() {
        return true;
    }

    /** A {@link SinkConfig} for a provider: the URI, settings by canonical key, and daemon threads. */
    public static SinkConfig sinkConfig(String uri, Map<String, String> settings) {
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "pgbridge-kit-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        return SinkConfig.of(uri, Settings.of(settings), threads);
    }

    @BeforeEach
    void startSink() {
        target = newTarget();
        sink = open(createSink(brokerUri()));
        sink.start();
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        deleteTarget(target);
    }

    @Test
    void publishesABatchInOrderAndConfirmsAllOfIt() throws Exception {
        Receiver receiver = open(receiver(target));
        List<Event> batch = textEvents(100);

        PublishResult result = sink.publish(target, batch);

        assertThat(result.isFailure()).as("publish result %s", result).isFalse();
        assertThat(result.confirmed()).as("confirmed events").isEqualTo(batch.size());
        awaitCount(receiver, batch.size());
        assertThat(texts(receiver.received()))
                .as("payloads in arrival order")
                .containsExactlyElementsOf(eventTexts(batch));
    }

    @Test
    void closeLosesNothingThatWasConfirmed() throws Exception {
        Receiver receiver = open(receiver(target));
        List<Event> batch = textEvents(200);

        PublishResult result = sink.publish(target, batch);
        sink.close();
        sink.close();

        assertThat(result.confirmed()).as("confirmed before close (%s)", result).isEqualTo(batch.size());
        awaitCount(receiver, batch.size());
        assertThat(texts(receiver.received())).as("payloads received").containsExactlyElementsOf(eventTexts(batch));
    }

    @Test
    void closeDuringAPublishEndsItWithoutOverstatingWhatWasConfirmed() throws Exception {
        Receiver receiver = open(receiver(target));
        // below Mosquitto's default max_queued_messages (1000), beyond which the broker drops for a slow subscriber
        List<Event> batch = textEvents(800);

        CompletableFuture<PublishResult> publishing = CompletableFuture.supplyAsync(() -> {
            try {
                return sink.publish(target, batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
        await().atMost(WAIT).until(() -> !receiver.received().isEmpty() || publishing.isDone());
        sink.close();
        PublishResult result = publishing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

        awaitCount(receiver, result.confirmed());
        assertThat(texts(receiver.received()).subList(0, result.confirmed()))
                .as("the %d events reported confirmed (%s), in order", result.confirmed(), result)
                .containsExactlyElementsOf(eventTexts(batch.subList(0, result.confirmed())));
    }

    @Test
    void carriesPayloadsByteForByte() throws Exception {
        Receiver receiver = open(receiver(target));
        List<byte[]> payloads = new ArrayList<>();
        payloads.add(repeat("0123456789abcdef", 7999).getBytes(StandardCharsets.US_ASCII));
        payloads.add("Grüße, 👋 שלום, ﷽, e\u0301, 日本語".getBytes(StandardCharsets.UTF_8));
        payloads.add(new byte[0]);
        if (binarySafe()) {
            byte[] every = new byte[256];
            for (int i = 0; i < every.length; i++) {
                every[i] = (byte) i;
            }
            payloads.add(every);
            payloads.add(new byte[] {(byte) 0xC3, 0x28, 0, (byte) 0xFF});
        }
        List<Event> events = payloads.stream().map(p -> event(p, Map.of())).collect(Collectors.toList());

        assertThat(sink.publish(target, events).confirmed()).as("confirmed").isEqualTo(events.size());

        awaitCount(receiver, events.size());
        assertThat(base64(receiver.received().stream().map(Received::payload).collect(Collectors.toList())))
                .as("payloads (Base64) as received")
                .containsExactlyElementsOf(base64(payloads));
    }

    @Test
    void carriesTheEventIdAndHeadersWhereTheProtocolHasRoomForThem() throws Exception {
        Receiver receiver = open(receiver(target));
        Map<String, String> headers = Map.of("trace-id", "t-" + UUID.randomUUID(), "tenant", "Zürich-東京");
        byte[] payload = "with headers".getBytes(StandardCharsets.UTF_8);
        Event event = event(payload, headers);

        assertThat(sink.publish(target, List.of(event)).confirmed())
                .as("confirmed")
                .isEqualTo(1);

        awaitCount(receiver, 1);
        Received received = receiver.received().get(0);
        assertThat(received.payload())
                .as("the payload, with nothing added to it")
                .isEqualTo(payload);
        if (carriesEventId()) {
            assertThat(received.eventId()).as("event id").isEqualTo(event.id());
        } else {
            assertThat(received.eventId())
                    .as("event id of a protocol without room for it")
                    .isNull();
        }
        if (carriesHeaders()) {
            assertThat(received.headers()).as("headers").containsAllEntriesOf(headers);
        } else {
            assertThat(received.headers())
                    .as("headers of a protocol without room for them")
                    .doesNotContainKeys("trace-id", "tenant");
        }
    }

    /** Events with text payloads {@code <test>-<n>}, each with a new id. */
    protected List<Event> textEvents(int count) {
        String prefix = UUID.randomUUID().toString().substring(0, 8);
        return IntStream.range(0, count)
                .mapToObj(i -> event((prefix + "-" + i).getBytes(StandardCharsets.UTF_8), Map.of()))
                .collect(Collectors.toList());
    }

    private static Event event(byte[] payload, Map<String, String> headers) {
        return Event.builder()
                .id("kit-" + UUID.randomUUID())
                .source("kit")
                .channel("kit_channel")
                .payload(payload)
                .headers(headers)
                .build();
    }

    /** Closes {@code resource} after the test, in reverse order of opening. */
    protected final <T extends AutoCloseable> T open(T resource) {
        opened.add(resource);
        return resource;
    }

    /** Waits until {@code receiver} got at least {@code count} messages. */
    protected static void awaitCount(Receiver receiver, int count) {
        await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.received().size())
                .as("messages received")
                .isGreaterThanOrEqualTo(count));
    }

    /** The payloads as UTF-8 text. */
    protected static List<String> texts(List<Received> messages) {
        return messages.stream()
                .map(m -> new String(m.payload(), StandardCharsets.UTF_8))
                .collect(Collectors.toList());
    }

    private static List<String> eventTexts(List<Event> events) {
        return events.stream().map(Event::payloadAsString).collect(Collectors.toList());
    }

    private static List<String> base64(List<byte[]> payloads) {
        return payloads.stream().map(Base64.getEncoder()::encodeToString).collect(Collectors.toList());
    }

    private static String repeat(String unit, int length) {
        return unit.repeat(length / unit.length() + 1).substring(0, length);
    }
}
