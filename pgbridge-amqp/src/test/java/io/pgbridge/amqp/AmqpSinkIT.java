package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.pgbridge.ConnectionException;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.FrozenPath;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * NOTIFY to RabbitMQ through the public API, against the real PostgreSQL and RabbitMQ of {@link TestServices}. Every
 * test owns its channel, queues and exchanges (random suffix) and deletes them afterwards.
 */
class AmqpSinkIT {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final String suffix = Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final String channel = "events_" + suffix;
    private final String applicationName = "pgbridge_it_" + suffix;
    private final List<String> queues = new ArrayList<>();
    private final List<String> exchanges = new ArrayList<>();
    private Connection admin;
    private Channel adminChannel;
    private java.sql.Connection pg;
    private PgBridge bridge;

    @BeforeEach
    void connect() throws Exception {
        pg = TestServices.postgresConnection();
        openAdmin();
    }

    private void openAdmin() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        factory.setAutomaticRecoveryEnabled(false);
        admin = factory.newConnection("pgbridge-it-admin");
        adminChannel = admin.createChannel();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
        if (!queues.isEmpty() || !exchanges.isEmpty()) {
            if (!admin.isOpen()) {
                openAdmin(); // a fault test restarted the broker
            }
            for (String q : queues) {
                adminChannel.queueDelete(q);
            }
            for (String x : exchanges) {
                adminChannel.exchangeDelete(x);
            }
        }
        if (admin != null && admin.isOpen()) {
            admin.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /**
     * Confirms lost on a frozen path: the lanes waited for them until the broker's 60 s heartbeat ended the connection
     * (found by pgbridge-chaos, seed -1674879717577266057); the sink's 5 s heartbeat leaves the path within seconds.
     */
    @Test
    void aRouteDeliversAgainAfterItsNetworkPathToRabbitMqFroze() throws Exception {
        String queue = "pgbridge-it-frozen-" + java.util.UUID.randomUUID();
        try (AmqpSinkCompatibilityIT.QueueReceiver receiver = new AmqpSinkCompatibilityIT.QueueReceiver(queue)) {
            FrozenPath.assertRouteDeliversAgainAfterItsPathFroze(
                    TestServices.amqpUrl(),
                    "queue:" + queue,
                    Map.of("PGBRIDGE_AMQP_CONFIRM_TIMEOUT_MS", "5000", "PGBRIDGE_AMQP_RECOVERY_INTERVAL_MS", "500"),
                    receiver);
        }
    }

    @Test
    void notifyWithRoutingKeyReachesQueueBoundToTopicExchange() throws Exception {
        String queue = declareQueue(false);
        adminChannel.queueBind(queue, "amq.topic", "signup");
        bridge = startBridge(channel + "->exchange:amq.topic", Map.of());

        notify(channel, "signup|A new user signup");

        // amq.topic is shared with other sessions: take the message of our channel
        GetResponse message = await().atMost(WAIT)
                .until(
                        () -> drain(queue).stream()
                                .filter(r -> channel.equals(headers(r).get("pgbridge-channel")))
                                .findFirst(),
                        Optional::isPresent)
                .get();
        assertThat(body(message)).as("body without the routing key").isEqualTo("A new user signup");
        assertThat(message.getEnvelope().getExchange()).as("exchange").isEqualTo("amq.topic");
        assertThat(message.getEnvelope().getRoutingKey()).as("routing key").isEqualTo("signup");
        assertThat(message.getProps().getMessageId()).as("message-id").isNotBlank();
        assertThat(message.getProps().getDeliveryMode())
                .as("default delivery mode")
                .isEqualTo(2);
        assertThat(message.getProps().getContentType()).as("content type").startsWith("text/plain");
        assertThat(headers(message))
                .as("headers")
                .containsEntry("pgbridge-source", "notify")
                .containsEntry("pgbridge-channel", channel)
                .containsEntry("pgbridge-routing-key", "signup");
        await().atMost(WAIT).untilAsserted(() -> assertThat(bridge.stats().delivered())
                .as("delivered count")
                .isEqualTo(1));
    }

    @Test
    void queueTargetDeliversThroughDefaultExchange() throws Exception {
        String queue = declareQueue(false);
        bridge = startBridge(channel + "->queue:" + queue, Map.of("amqp.delivery-mode", "1"));

        notify(channel, "{\"job\":1}");
        notify(channel, "{\"job\":2}");

        List<GetResponse> messages = awaitMessages(queue, 2);
        assertThat(messages).extracting(AmqpSinkIT::body).containsExactly("{\"job\":1}", "{\"job\":2}");
        assertThat(messages.get(0).getEnvelope().getRoutingKey())
                .as("routing key is the queue name")
                .isEqualTo(queue);
        assertThat(messages.get(0).getProps().getContentType())
                .as("JSON payload")
                .isEqualTo("application/json");
        assertThat(messages.get(0).getProps().getDeliveryMode())
                .as("delivery mode from the setting")
                .isEqualTo(1);
        assertThat(headers(messages.get(0))).as("no routing key header").doesNotContainKey("pgbridge-routing-key");
    }

    @Test
    void concurrentRoutesEachDeliverInOrder() throws Exception {
        String other = channel + "_b";
        String queueA = declareQueue(false);
        String queueB = declareQueue(false);
        bridge = startBridge(channel + "->queue:" + queueA + ", " + other + "->queue:" + queueB, Map.of());
        List<String> expected =
                IntStream.rangeClosed(1, 200).mapToObj(Integer::toString).toList();

        for (String payload : expected) {
            notify(channel, payload);
            notify(other, payload);
        }

        assertThat(awaitMessages(queueA, 200))
                .extracting(AmqpSinkIT::body)
                .as("route A, in order")
                .containsExactlyElementsOf(expected);
        assertThat(awaitMessages(queueB, 200))
                .extracting(AmqpSinkIT::body)
                .as("route B, in order")
                .containsExactlyElementsOf(expected);
    }

    @Test
    void largestAndNonAsciiPayloadsArriveByteExact() throws Exception {
        String queue = declareQueue(false);
        bridge = startBridge(channel + "->queue:" + queue, Map.of());
        String largest = "x".repeat(7998) + "!";
        String unicode = "emoji 🎉🚀 RTL שלום עליכם مرحبا combining e\u0301 a\u0308 n\u0303 CJK 漢字";

        notify(channel, largest);
        notify(channel, unicode);

        List<GetResponse> messages = awaitMessages(queue, 2);
        assertThat(messages.get(0).getBody())
                .as("7999-byte payload, byte for byte")
                .hasSize(7999)
                .isEqualTo(largest.getBytes(StandardCharsets.UTF_8));
        assertThat(messages.get(1).getBody())
                .as("non-ASCII payload, byte for byte")
                .isEqualTo(unicode.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void eventsAfterTheListenBackendIsTerminatedArrive() throws Exception {
        String queue = declareQueue(false);
        bridge = startBridge(channel + "->queue:" + queue, Map.of());
        int listener = await().atMost(WAIT).until(this::listenBackend, pid -> pid != null);

        try (PreparedStatement st = pg.prepareStatement("SELECT pg_terminate_backend(?)")) {
            st.setInt(1, listener);
            try (ResultSet rs = st.executeQuery()) {
                assertThat(rs.next() && rs.getBoolean(1))
                        .as("backend terminated")
                        .isTrue();
            }
        }
        await().atMost(WAIT).until(this::listenBackend, pid -> pid != null && pid != listener);
        // LISTEN may follow the new backend by a moment: probe until one probe comes through.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            notify(channel, "probe");
            assertThat(drain(queue)).as("a probe after reconnection").isNotEmpty();
        });
        notify(channel, "after-1");
        notify(channel, "after-2");
        notify(channel, "after-3");

        List<String> after = new ArrayList<>();
        await().atMost(WAIT).until(() -> {
            drain(queue).stream()
                    .map(AmqpSinkIT::body)
                    .filter(b -> !b.equals("probe"))
                    .forEach(after::add);
            return after.size() >= 3;
        });
        assertThat(after)
                .as("events sent after the reconnection, in order (late probes left out)")
                .containsExactly("after-1", "after-2", "after-3");
    }

    @Test
    void everyConfirmedEventSurvivesABrokerRestartAndPublishingResumes() throws Exception {
        String queue = declareQueue(true);
        bridge = startBridge(channel + "->queue:" + queue, Map.of("amqp.recovery-interval-ms", "500"));
        AtomicInteger sent = new AtomicInteger();
        ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
        try (java.sql.Connection producerPg = TestServices.postgresConnection()) {
            // a steady stream, so that publishes are in flight when the broker goes away
            producer.scheduleAtFixedRate(
                    () -> {
                        try (PreparedStatement st = producerPg.prepareStatement("SELECT pg_notify(?, ?)")) {
                            st.setString(1, channel);
                            st.setString(2, Integer.toString(sent.get() + 1));
                            st.execute();
                            sent.incrementAndGet();
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    0,
                    10,
                    TimeUnit.MILLISECONDS);
            await().atMost(WAIT).until(() -> bridge.stats().delivered() >= 20);
            int sentAtRestart;
            try {
                TestServices.stop(TestServices.Service.AMQP);
                // Fails fast, well within the 30 s confirm timeout. One lane: its first failed publish comes after
                // every confirmed batch was counted.
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> bridge.stats().retries() > 0);
                long deliveredWhileDown = bridge.stats().delivered();
                await().during(Duration.ofSeconds(1))
                        .atMost(Duration.ofSeconds(5))
                        .alias("nothing is counted delivered while the broker is down")
                        .until(() -> bridge.stats().delivered() == deliveredWhileDown);
            } finally {
                TestServices.start(TestServices.Service.AMQP);
                sentAtRestart = sent.get();
            }
            await().atMost(Duration.ofSeconds(60))
                    .alias("events sent after the restart are delivered without intervention")
                    .until(() -> bridge.stats().delivered() >= sentAtRestart + 20);
        } finally {
            producer.shutdownNow();
            assertThat(producer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
        int total = sent.get();
        await().atMost(WAIT).until(() -> bridge.stats().delivered() == total);

        openAdmin();
        List<String> bodies = drain(queue).stream().map(AmqpSinkIT::body).collect(Collectors.toList());
        Set<String> expected = IntStream.rangeClosed(1, total)
                .mapToObj(Integer::toString)
                .collect(Collectors.toCollection(LinkedHashSet::new));
        assertThat(new HashSet<>(bodies))
                .as(
                        "every one of the %d events counted delivered is in the durable queue after the restart "
                                + "(duplicates allowed)",
                        total)
                .isEqualTo(expected);
    }

    @Test
    void nackedEventIsRetriedUntilTheQueueHasRoom() throws Exception {
        String queue = "pgbridge_it_full_" + suffix;
        adminChannel.queueDeclare(
                queue, false, false, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
        queues.add(queue);
        bridge = startBridge(channel + "->queue:" + queue, Map.of());

        notify(channel, "first");
        await().atMost(WAIT).until(() -> bridge.stats().delivered() == 1);
        notify(channel, "second");

        await().atMost(WAIT).until(() -> bridge.stats().retries() >= 3);
        assertThat(bridge.stats().delivered())
                .as("the broker nacked the second event (queue full, reject-publish)")
                .isEqualTo(1);
        assertThat(body(adminChannel.basicGet(queue, true))).isEqualTo("first");

        assertThat(body(awaitMessage(queue))).as("retried once there is room").isEqualTo("second");
        await().atMost(WAIT).until(() -> bridge.stats().delivered() == 2);
    }

    @Test
    void missingExchangeIsRetriedUntilItExists() throws Exception {
        String exchange = "pgbridge_it_missing_" + suffix;
        String queue = declareQueue(false);
        bridge = startBridge(channel + "->exchange:" + exchange, Map.of());

        notify(channel, "k|waiting for the exchange");

        await().atMost(WAIT).until(() -> bridge.stats().retries() >= 3);
        assertThat(bridge.stats().delivered())
                .as("the broker closed the channel (404), nothing delivered")
                .isZero();

        adminChannel.exchangeDeclare(exchange, "direct", false);
        exchanges.add(exchange);
        adminChannel.queueBind(queue, exchange, "k");

        assertThat(body(awaitMessage(queue))).isEqualTo("waiting for the exchange");
    }

    @Test
    void unroutableEventIsRetriedNotDeliveredUntilABindingExists() throws Exception {
        String exchange = "pgbridge_it_x_" + suffix;
        adminChannel.exchangeDeclare(exchange, "direct", false);
        exchanges.add(exchange);
        String queue = declareQueue(false);
        bridge = startBridge(channel + "->exchange:" + exchange, Map.of());

        notify(channel, "orphan|nobody listens yet");

        await().atMost(WAIT).until(() -> bridge.stats().retries() >= 3);
        assertThat(bridge.stats().delivered())
                .as("a returned message is not delivered")
                .isZero();
        assertThat(adminChannel.basicGet(queue, true)).as("queue is empty").isNull();

        adminChannel.queueBind(queue, exchange, "orphan");

        assertThat(body(awaitMessage(queue))).isEqualTo("nobody listens yet");
        await().atMost(WAIT).untilAsserted(() -> assertThat(bridge.stats().delivered())
                .as("delivered once routable")
                .isEqualTo(1));
    }

    @Test
    void wrongCredentialsFailStartWithoutThePassword() {
        String password = "wrong-secret-" + suffix;
        URI amqp = URI.create(TestServices.amqpUrl());
        String uri = "amqp://guest:" + password + "@" + amqp.getHost() + ":" + amqp.getPort() + "/%2f";
        PgBridge b = builder(channel + "->queue:unused_" + suffix, Map.of())
                .upstream(uri)
                .build();

        assertThatThrownBy(b::start)
                .isInstanceOf(ConnectionException.class)
                .hasMessageContaining("Cannot connect to RabbitMQ at")
                .hasMessageContaining("guest:****@")
                .hasMessageContaining("ACCESS_REFUSED")
                .satisfies(e -> assertThat(messages(e))
                        .as("messages of the whole cause chain")
                        .doesNotContain(password));
    }

    @Test
    void unreachableBrokerFailsStartQuickly() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        PgBridge b = builder(channel + "->queue:unused_" + suffix, Map.of())
                .upstream("amqp://guest:guest@127.0.0.1:" + port + "/%2f")
                .build();
        long started = System.nanoTime();

        assertThatThrownBy(b::start)
                .isInstanceOf(ConnectionException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageNotContaining("guest:guest");
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .as("refused connection fails at once, no retry loop")
                .isLessThan(Duration.ofSeconds(10));
    }

    private PgBridge startBridge(String routes, Map<String, String> settings) {
        PgBridge b = builder(routes, settings).upstream(TestServices.amqpUrl()).build();
        b.start();
        return b;
    }

    private PgBridge.Builder builder(String routes, Map<String, String> settings) {
        return PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                // a name of our own finds our LISTEN backend among those of the other sessions sharing the server
                .setting("postgresql.application-name", applicationName)
                .routes(routes)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(5))
                .settings(settings);
    }

    private Integer listenBackend() throws SQLException {
        try (PreparedStatement st = pg.prepareStatement(
                "SELECT pid FROM pg_stat_activity WHERE application_name = ? ORDER BY backend_start DESC")) {
            st.setString(1, applicationName);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getInt(1) : null;
            }
        }
    }

    private String declareQueue(boolean durable) throws IOException {
        String name = "pgbridge_it_" + suffix + "_" + queues.size();
        adminChannel.queueDeclare(name, durable, false, false, null);
        queues.add(name);
        return name;
    }

    private void notify(String ch, String payload) throws SQLException {
        try (PreparedStatement st = pg.prepareStatement("SELECT pg_notify(?, ?)")) {
            st.setString(1, ch);
            st.setString(2, payload);
            st.execute();
        }
    }

    private GetResponse awaitMessage(String queue) {
        return awaitMessages(queue, 1).get(0);
    }

    private List<GetResponse> awaitMessages(String queue, int count) {
        List<GetResponse> got = new ArrayList<>();
        await().atMost(WAIT).until(() -> {
            got.addAll(drain(queue));
            return got.size() >= count;
        });
        assertThat(got).as("messages in " + queue).hasSize(count);
        return got;
    }

    private List<GetResponse> drain(String queue) throws IOException {
        List<GetResponse> out = new ArrayList<>();
        for (GetResponse r = adminChannel.basicGet(queue, true); r != null; r = adminChannel.basicGet(queue, true)) {
            out.add(r);
        }
        return out;
    }

    private static String body(GetResponse r) {
        return new String(r.getBody(), StandardCharsets.UTF_8);
    }

    private static Map<String, String> headers(GetResponse r) {
        if (r.getProps().getHeaders() == null) {
            return Map.of();
        }
        return r.getProps().getHeaders().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> String.valueOf(e.getValue())));
    }

    private static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t).append('\n');
        }
        return sb.toString();
    }
}
