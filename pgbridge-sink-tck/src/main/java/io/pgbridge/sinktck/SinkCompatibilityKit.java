package io.pgbridge.sinktck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
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
 * class MqttSinkCompatibilityIT extends SinkCompatibilityKit {
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
 *   <li>a sink that cannot reach its broker fails {@link Sink#start()} with a {@link ConnectionException} that names
 *       the endpoint but not the password, and does not keep reconnecting after that;
 *   <li>while the broker is down nothing is reported confirmed and the failure is reported, not swallowed; once the
 *       broker is back, publishing works again;
 *   <li>{@link Sink#close()} loses nothing that was confirmed, also when it interrupts a publish in progress: every
 *       event a publish reported confirmed reaches the consumer;
 *   <li>payloads arrive byte for byte: 7999 bytes, non-ASCII text, empty and, where the protocol allows, binary;
 *   <li>the event id and headers travel with the message, where the protocol has a place for them.
 * </ul>
 *
 * <p>The broker is stopped and started through {@link TestServices#stop}/{@link TestServices#start}, for a few
 * seconds, and always restarted. The sink must therefore be created with a publish timeout well under
 * {@link #WAIT} (a few seconds), so that a publish to a stopped broker returns a failure in time.
 */
public abstract class SinkCompatibilityKit {
    /** The longest a test waits for the broker or the sink. */
    protected static final Duration WAIT = Duration.ofSeconds(30);

    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final String PASSWORD = "kit-secret-password";

    private final List<AutoCloseable> opened = new ArrayList<>();
    private Target target;
    private Sink sink;

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

    /** The broker, for {@link TestServices#stop}/{@link TestServices#start}. */
    protected abstract TestServices.Service service();

    /** Stops the broker for the outage test. Default: {@link TestServices#stop} of {@link #service()}. */
    protected void stopBroker() {
        TestServices.stop(service());
    }

    /** Starts the broker again after the outage test. Default: {@link TestServices#start} of {@link #service()}. */
    protected void startBroker() {
        TestServices.start(service());
    }

    /**
     * Whether the sink connects to a broker, so that an unreachable or stopped broker makes sense. A sink that is
     * itself a server (WebSocket) does not. Default: yes.
     */
    protected boolean connectsToABroker() {
        return true;
    }

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
    void failsToStartWithAClearErrorThatHidesThePasswordWhenTheBrokerIsUnreachable() throws Exception {
        assumeTrue(connectsToABroker(), "the sink connects to no broker");
        int port = unusedPort();
        Sink unreachable = open(createSink(endpoint(brokerUri(), port)));

        assertThatThrownBy(() -> assertTimeoutPreemptively(WAIT, unreachable::start))
                .as("start() against a port nobody listens on")
                .isInstanceOf(ConnectionException.class)
                .hasMessageContaining(Integer.toString(port))
                .hasMessageNotContaining(PASSWORD);
    }

    @Test
    void connectsOnceWhenTheBrokerHangsUpAtStartInsteadOfRetryingInALoop() throws Exception {
        assumeTrue(connectsToABroker(), "the sink connects to no broker");
        AtomicInteger connections = new AtomicInteger();
        try (ServerSocket hangsUp = new ServerSocket(0)) {
            Thread acceptor = new Thread(() -> acceptAndClose(hangsUp, connections), "pgbridge-kit-hangs-up");
            acceptor.setDaemon(true);
            acceptor.start();
            Sink sink = open(createSink(endpoint(brokerUri(), hangsUp.getLocalPort())));

            assertThatThrownBy(() -> assertTimeoutPreemptively(WAIT, sink::start))
                    .as("start() against a server that closes every connection")
                    .isInstanceOf(ConnectionException.class)
                    .hasMessageNotContaining(PASSWORD);
            int attempts = connections.get();
            await("no further connection attempts after start() failed")
                    .during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> connections.get() == attempts);
        }
    }

    @Test
    void confirmsNothingWhileTheBrokerIsDownAndRecoversWhenItReturns() throws Exception {
        assumeTrue(connectsToABroker(), "the sink connects to no broker");
        Event duringOutage = textEvents(1).get(0);
        stopBroker();
        try {
            PublishResult result = assertTimeoutPreemptively(WAIT, () -> sink.publish(target, List.of(duringOutage)));
            assertThat(result.confirmed())
                    .as("events confirmed while the broker is down (%s)", result)
                    .isZero();
            assertThat(result.reason()).as("the failure is reported").isNotBlank();
        } finally {
            startBroker();
        }

        Receiver receiver = open(receiver(target));
        Event afterOutage = textEvents(1).get(0);
        await("the sink publishes again once the broker is back")
                .atMost(WAIT.multipliedBy(2))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> sink.publish(target, List.of(afterOutage)).confirmed() == 1);
        await().atMost(WAIT).untilAsserted(() -> assertThat(texts(receiver.received()))
                .as("received after the outage")
                .contains(afterOutage.payloadAsString()));
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
    void carriesTheEventIdAndHeaders() throws Exception {
        assumeTrue(carriesEventId(), "the protocol has no place for the event id");
        Receiver receiver = open(receiver(target));
        Map<String, String> headers = Map.of("trace-id", "t-" + UUID.randomUUID(), "tenant", "Zürich-東京");
        Event event = event("with headers".getBytes(StandardCharsets.UTF_8), headers);

        assertThat(sink.publish(target, List.of(event)).confirmed())
                .as("confirmed")
                .isEqualTo(1);

        awaitCount(receiver, 1);
        Received received = receiver.received().get(0);
        assertThat(received.eventId()).as("event id").isEqualTo(event.id());
        if (carriesHeaders()) {
            assertThat(received.headers()).as("headers").containsAllEntriesOf(headers);
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

    private <T extends AutoCloseable> T open(T resource) {
        opened.add(resource);
        return resource;
    }

    private static void awaitCount(Receiver receiver, int count) {
        await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.received().size())
                .as("messages received")
                .isGreaterThanOrEqualTo(count));
    }

    private static List<String> texts(List<Received> messages) {
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

    private static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void acceptAndClose(ServerSocket server, AtomicInteger connections) {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                connections.incrementAndGet();
            } catch (IOException e) {
                return; // the server socket was closed: the test is over
            }
        }
    }

    /** {@code uri} with the kit's user and password, on 127.0.0.1 at {@code port}. */
    private static String endpoint(String uri, int port) {
        String authority = URI.create(uri).getRawAuthority();
        int start = uri.indexOf(authority);
        return uri.substring(0, start) + "pgbridge-kit:" + PASSWORD + "@127.0.0.1:" + port
                + uri.substring(start + authority.length());
    }
}
