package io.pgbridge.mqtt;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientBuilderBase;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.exceptions.MqttEncodeException;
import com.hivemq.client.mqtt.lifecycle.MqttClientDisconnectedContext;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConnectionConfig;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubRecException;
import com.hivemq.client.mqtt.mqtt5.message.Mqtt5ReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.support.NamedThreadFactory;
import io.pgbridge.spi.support.PublishResults;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes events to an MQTT broker with the HiveMQ MQTT client: MQTT 5 by default, 3.1.1 on request. Created by
 * {@link MqttSinkProvider} from {@code PGBRIDGE_UPSTREAM_URI=mqtt://host:1883}; see {@link MqttConfig} for the
 * settings.
 *
 * <p>Target kind {@code topic}: {@code events->topic:events} publishes to topic {@code events}; an event with routing
 * key {@code signup} (from a {@code signup|...} NOTIFY payload) goes to {@code events.signup}, joined with
 * {@code mqtt.topic-separator}. Topic names with the wildcards {@code +} or {@code #}, with U+0000, empty, starting
 * with {@code $} or over 65,535 bytes are refused at configuration time; a routing key that would make such a topic
 * refuses its event for good (dead letter).
 *
 * <p>Guarantees (MQTT 3.1.1 section 4.3, MQTT 5 section 4.3): an event counts as confirmed when its QoS flow
 * completed: QoS 1 on PUBACK, QoS 2 on PUBCOMP (MQTT 5 only, see {@link Qos2Completion}), QoS 0 once the client
 * wrote it to the network (at most once: the broker confirms nothing). An MQTT 5 PUBACK/PUBREC with an error reason
 * code is a failure. The guarantee is per hop: Mosquitto acknowledges a message it then drops when it is over
 * {@code message_size_limit}, when a subscriber's queue is full ({@code max_queued_messages}, 1000 by default), or
 * when it restarts without {@code persistence true}. MQTT 5 user properties: {@code pgbridge-event-id},
 * {@code pgbridge-channel}, then the event's headers; the content type when the event has one. MQTT 3.1.1 carries the
 * payload alone.
 *
 * <p>A payload over {@code mqtt.max-message-bytes} or over the broker's maximum packet size (MQTT 5 CONNACK) is
 * refused for good with a message naming both sizes, never dropped silently. After the first connection the client
 * reconnects by itself (exponential backoff from 0.5 s to 30 s, ±25% jitter), also after a silent network path (keep
 * alive {@value #KEEP_ALIVE_SECONDS} s); while it is disconnected publishes fail
 * and are retried by the pipeline. Duplicates are possible after a failure (at least once), and every message carries
 * the event id to deduplicate.
 *
 * <p>Thread-safe; any number of batches may be in flight ({@link #publishAsync}), all on the one MQTT connection, so
 * that the broker gets a route's PUBLISHes in call order. The client's network I/O runs on one thread from the sink's
 * thread factory; the client completes futures on its own shared RxJava scheduler threads.
 */
public final class MqttSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(MqttSink.class);
    static final String EVENT_ID_PROPERTY = "pgbridge-event-id";
    static final String CHANNEL_PROPERTY = "pgbridge-channel";
    private static final int MAX_TOPIC_BYTES = 65_535;
    private static final long RECONNECT_INITIAL_MS = 500;
    private static final long RECONNECT_MAX_MS = 30_000;
    /**
     * The MQTT keep alive, in seconds: the client sends PINGREQ once nothing was read for this long and closes the
     * connection when no PINGRESP came a keep alive later, then reconnects. A network path that stops carrying bytes
     * without closing (a dead NAT entry) is thus left within 20 s; with the client's default of 60 s a lane retried
     * QoS flows that could never complete for up to two minutes (found by pgbridge-chaos).
     */
    static final int KEEP_ALIVE_SECONDS = 10;
    /** Fixed header, packet id and property lengths of a PUBLISH, generously; the rest: topic, properties, payload. */
    private static final int PUBLISH_OVERHEAD_BYTES = 32;
    // PUBACK/PUBREC reason codes that no retry can cure (MQTT 5 section 3.4.2.1)
    private static final int TOPIC_NAME_INVALID = 0x90;
    private static final int PAYLOAD_FORMAT_INVALID = 0x99;

    private final MqttConfig config;
    private final ThreadFactory threads;
    private final Object lock = new Object();
    private volatile Client client;
    private volatile boolean connectedOnce;
    private volatile boolean closed;

    /** A sink for {@code PgBridge.Builder.sink(...)}, its threads daemon threads named {@code pgbridge-mqtt-<n>}. */
    public MqttSink(MqttConfig config) {
        this(config, new NamedThreadFactory("mqtt", null));
    }

    /** @param threads creates every thread the MQTT client's callbacks run on */
    public MqttSink(MqttConfig config, ThreadFactory threads) {
        this.config = config;
        this.threads = threads;
    }

    @Override
    public String name() {
        return "mqtt";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of("topic");
    }

    @Override
    public List<String> validateTarget(Target target) {
        String problem = topicProblem(target.name());
        return problem == null ? List.of() : List.of("MQTT topic '" + target.name() + "' " + problem);
    }

    /** Why {@code topic} cannot be published to, or {@code null}. MQTT 5 sections 4.7.1 to 4.7.3. */
    static String topicProblem(String topic) {
        if (topic.isEmpty()) {
            return "is empty";
        }
        if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
            return "contains a wildcard (+ or #), which only subscriptions may use";
        }
        if (topic.indexOf('\0') >= 0) {
            return "contains U+0000, which MQTT forbids in topic names";
        }
        if (topic.startsWith("$")) {
            return "starts with $, which brokers reserve for their own topics ($SYS)";
        }
        if (topic.getBytes(StandardCharsets.UTF_8).length > MAX_TOPIC_BYTES) {
            return "is longer than MQTT's 65535 bytes";
        }
        return null;
    }

    /** Why {@code separator} cannot join a topic and a routing key, or {@code null}. */
    static String separatorProblem(String separator) {
        if (separator.isEmpty()) {
            return "must not be empty";
        }
        return separator.indexOf('+') >= 0 || separator.indexOf('#') >= 0 || separator.indexOf('\0') >= 0
                ? "must not contain +, # or U+0000"
                : null;
    }

    /** The topic an event goes to: the target's, joined with the routing key when the event has one. */
    String topicFor(Target target, Event event) {
        String key = event.routingKey();
        return key == null || key.isEmpty() ? target.name() : target.name() + config.topicSeparator + key;
    }

    /**
     * Connects and waits for the CONNACK.
     *
     * @throws ConnectionException when the broker cannot be reached within {@code mqtt.connect-timeout-ms} or refuses
     *     the connection (bad credentials: CONNACK 0x86/0x87, 3.1.1 return code 4/5); the message names the endpoint
     *     and the user, never the password. Nothing keeps running after it.
     */
    @Override
    public void start() {
        synchronized (lock) {
            if (client != null) {
                throw new IllegalStateException("start() can be called once");
            }
            client = config.mqtt5 ? new V5() : new V3();
        }
        try {
            client.connect().get(config.connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
            connectedOnce = true;
            log.info("MQTT sink connected to {} as {}", config.redactedUri, config);
        } catch (ExecutionException e) {
            close();
            throw new ConnectionException(connectFailure(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            close();
            throw new ConnectionException(
                    "MQTT broker " + config.endpoint() + " did not answer within " + config.connectTimeout.toMillis()
                            + " ms (" + MqttConfig.CONNECT_TIMEOUT.envName() + ")",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new ConnectionException("Interrupted while connecting to MQTT broker " + config.endpoint(), e);
        }
    }

    private String connectFailure(Throwable cause) {
        String who = config.username == null ? "anonymously" : "as user '" + config.username + "'";
        if (cause instanceof Mqtt5ConnAckException) {
            return "MQTT broker " + config.endpoint() + " refused the connection " + who + ": CONNACK "
                    + ((Mqtt5ConnAckException) cause).getMqttMessage().getReasonCode();
        }
        if (cause instanceof Mqtt3ConnAckException) {
            return "MQTT broker " + config.endpoint() + " refused the connection " + who + ": CONNACK "
                    + ((Mqtt3ConnAckException) cause).getMqttMessage().getReturnCode();
        }
        return "Cannot connect to MQTT broker " + config.endpoint() + " " + who + ": " + cause.getMessage();
    }

    /** Publishes through {@link #publishAsync} and waits for its result. */
    @Override
    public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
        return PublishResults.await(publishAsync(target, events));
    }

    /**
     * Hands every event to the client, in order, and returns without waiting for the broker; the result completes once
     * the confirmed prefix is known (the leading events whose QoS flow completed, up to the first that failed), at the
     * latest {@code mqtt.publish-timeout-ms} after the events were handed over. An event that could never be published
     * (a topic or size the broker refuses) is refused for good, and nothing after it is handed over.
     *
     * <p>Any number of batches may be in flight. The client writes PUBLISHes in the order they were handed to it,
     * after those of earlier calls, also when the calls came from different threads one after another (a lane's), and
     * never more QoS 1/2 flows at once than the broker's Receive Maximum (MQTT 5 CONNACK): the rest wait in the
     * client, and their wait counts toward the timeout. The broker keeps that order per topic (MQTT 5 section 4.6).
     */
    @Override
    public CompletionStage<PublishResult> publishAsync(Target target, List<Event> events) {
        Client c = client;
        if (c == null || closed) {
            return CompletableFuture.completedFuture(
                    PublishResult.failed(0, "the MQTT sink is " + (closed ? "closed" : "not started"), null));
        }
        List<CompletableFuture<?>> flows = new ArrayList<>(events.size());
        String refusal = null;
        for (Event event : events) {
            String topic = topicFor(target, event);
            refusal = refusal(topic, event, c.maxPacketSize());
            if (refusal != null) {
                break;
            }
            flows.add(c.publish(topic, event));
        }
        String refused = refusal;
        return new QosFlows(flows, new QosFlows.Outcomes() {
                    @Override
                    public PublishResult allCompleted(int n) {
                        return refused == null ? PublishResult.confirmed(n) : PublishResult.rejected(n, refused);
                    }

                    @Override
                    public PublishResult failed(int confirmed, Throwable cause) {
                        return failure(confirmed, topicFor(target, events.get(confirmed)), cause);
                    }

                    @Override
                    public PublishResult expired(int confirmed) {
                        return PublishResult.failed(
                                confirmed,
                                "MQTT broker " + config.endpoint() + " did not complete the QoS " + config.qos
                                        + " flow within " + config.publishTimeout.toMillis() + " ms",
                                null);
                    }
                })
                .expiringAfter(config.publishTimeout);
    }

    private String refusal(String topic, Event event, int maxPacketSize) {
        String problem = topicProblem(topic);
        if (problem != null) {
            return "MQTT topic '" + topic + "' (routing key '" + event.routingKey() + "') " + problem;
        }
        int size = event.payloadSize();
        if (config.maxMessageBytes > 0 && size > config.maxMessageBytes) {
            return "payload of " + size + " bytes is over " + MqttConfig.MAX_MESSAGE_BYTES.envName() + "="
                    + config.maxMessageBytes;
        }
        long packet = (long) size + topic.length() * 3L + propertiesSize(event) + PUBLISH_OVERHEAD_BYTES;
        if (packet > maxPacketSize) {
            return "a PUBLISH with a payload of " + size + " bytes (about " + packet + " bytes in all) is over the "
                    + "broker's maximum packet size of " + maxPacketSize + " bytes";
        }
        return null;
    }

    private long propertiesSize(Event event) {
        if (!config.mqtt5) {
            return 0;
        }
        long size = 3L
                * (EVENT_ID_PROPERTY.length()
                        + event.id().length()
                        + CHANNEL_PROPERTY.length()
                        + event.channel().length());
        for (Map.Entry<String, String> h : event.headers().entrySet()) {
            size += 5 + 3L * (h.getKey().length() + h.getValue().length());
        }
        return size;
    }

    private PublishResult failure(int confirmed, String topic, Throwable cause) {
        if (cause instanceof MqttEncodeException) {
            return PublishResult.rejected(
                    confirmed, "the MQTT client cannot encode the PUBLISH to '" + topic + "': " + cause.getMessage());
        }
        Mqtt5ReasonCode code = cause instanceof Mqtt5PubAckException
                ? ((Mqtt5PubAckException) cause).getMqttMessage().getReasonCode()
                : cause instanceof Mqtt5PubRecException
                        ? ((Mqtt5PubRecException) cause).getMqttMessage().getReasonCode()
                        : null;
        if (code != null && (code.getCode() == TOPIC_NAME_INVALID || code.getCode() == PAYLOAD_FORMAT_INVALID)) {
            return PublishResult.rejected(confirmed, "MQTT broker refused the PUBLISH to '" + topic + "': " + code);
        }
        String why = code != null
                ? "the broker answered with reason code " + code + " (0x" + Integer.toHexString(code.getCode()) + ")"
                : String.valueOf(cause);
        return PublishResult.failed(
                confirmed, "MQTT publish to '" + topic + "' on " + config.endpoint() + " failed: " + why, cause);
    }

    /**
     * Disconnects gracefully (an MQTT DISCONNECT after what the client already wrote), waiting up to 5 s. Idempotent;
     * failures are logged.
     */
    @Override
    public void close() {
        Client c;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            c = client;
        }
        if (c != null) {
            try {
                c.disconnect().get(5, TimeUnit.SECONDS);
            } catch (ExecutionException ex) {
                log.debug(
                        "MQTT disconnect from {} ended with {}",
                        config.endpoint(),
                        ex.getCause().toString());
            } catch (TimeoutException ex) {
                log.warn("MQTT disconnect from {} did not finish within 5 s", config.endpoint());
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "MqttSink{" + config + '}';
    }

    /** Reconnects after a connection that once worked was lost, unless the sink is closing. */
    private void onDisconnected(MqttClientDisconnectedContext context) {
        Client c = client;
        if (c != null) {
            c.connectionLost(context.getCause());
        }
        if (closed || !connectedOnce) {
            return;
        }
        int attempt = context.getReconnector().getAttempts();
        long delay = Math.min(RECONNECT_MAX_MS, RECONNECT_INITIAL_MS << Math.min(attempt, 16));
        delay = (long) (delay * (0.75 + ThreadLocalRandom.current().nextDouble() * 0.5));
        if (attempt == 0) {
            log.warn(
                    "MQTT connection to {} lost ({}); reconnecting",
                    config.endpoint(),
                    context.getCause().toString());
        }
        context.getReconnector().reconnect(true).delay(delay, TimeUnit.MILLISECONDS);
    }

    private <B extends MqttClientBuilderBase<B>> B common(B builder) {
        B b = builder.identifier(config.clientId)
                .serverHost(config.host)
                .serverPort(config.port)
                .executorConfig()
                .nettyExecutor(command -> threads.newThread(command).start())
                .nettyThreads(1)
                .applyExecutorConfig()
                .addDisconnectedListener(this::onDisconnected);
        return config.tls ? b.sslWithDefaultConfig() : b;
    }

    private MqttQos qos() {
        return MqttQos.fromCode(config.qos);
    }

    /** What differs between MQTT 5 and 3.1.1. */
    private interface Client {
        CompletableFuture<?> connect();

        /** Completes when the QoS flow did, exceptionally when it failed. */
        CompletableFuture<?> publish(String topic, Event event);

        /** The largest PUBLISH the broker accepts, in bytes. */
        int maxPacketSize();

        /** The connection dropped: flows that cannot complete any more must fail. */
        void connectionLost(Throwable cause);

        CompletableFuture<?> disconnect();
    }

    private final class V5 implements Client {
        private final Qos2Completion qos2 = new Qos2Completion();
        private final Mqtt5AsyncClient mqtt;

        V5() {
            var builder = common(MqttClient.builder().useMqttVersion5())
                    .advancedConfig()
                    .interceptors()
                    .outgoingQos2Interceptor(qos2)
                    .applyInterceptors()
                    .applyAdvancedConfig();
            if (config.username != null) {
                var auth = builder.simpleAuth().username(config.username);
                if (config.password != null) {
                    auth = auth.password(config.password.reveal().getBytes(StandardCharsets.UTF_8));
                }
                builder = auth.applySimpleAuth();
            }
            mqtt = builder.buildAsync();
        }

        @Override
        public CompletableFuture<?> connect() {
            return mqtt.connectWith()
                    .keepAlive(KEEP_ALIVE_SECONDS)
                    .cleanStart(config.cleanSession)
                    .sessionExpiryInterval(config.sessionExpirySeconds)
                    .send();
        }

        @Override
        public CompletableFuture<?> publish(String topic, Event event) {
            var p = Mqtt5Publish.builder()
                    .topic(topic)
                    .qos(qos())
                    .retain(config.retain)
                    .payload(event.payloadBuffer());
            if (event.contentType() != null) {
                p = p.contentType(event.contentType());
            }
            var properties =
                    p.userProperties().add(EVENT_ID_PROPERTY, event.id()).add(CHANNEL_PROPERTY, event.channel());
            for (Map.Entry<String, String> h : event.headers().entrySet()) {
                properties = properties.add(h.getKey(), h.getValue());
            }
            Mqtt5Publish publish = properties.applyUserProperties().build();
            CompletableFuture<Void> pubComp = config.qos == 2 ? qos2.register(publish) : null;
            return mqtt.publish(publish).thenCompose(result -> {
                if (result.getError().isPresent()) {
                    if (pubComp != null) {
                        qos2.forget(publish);
                    }
                    return CompletableFuture.failedFuture(result.getError().get());
                }
                return pubComp != null ? pubComp : CompletableFuture.completedFuture(null);
            });
        }

        @Override
        public void connectionLost(Throwable cause) {
            qos2.connectionLost(cause);
        }

        @Override
        public int maxPacketSize() {
            return mqtt.getConfig()
                    .getConnectionConfig()
                    .map(Mqtt5ClientConnectionConfig::getRestrictionsForClient)
                    .map(Mqtt5ClientConnectionConfig.RestrictionsForClient::getSendMaximumPacketSize)
                    .orElse(Integer.MAX_VALUE);
        }

        @Override
        public CompletableFuture<?> disconnect() {
            return mqtt.disconnect();
        }
    }

    private final class V3 implements Client {
        private final Mqtt3AsyncClient mqtt;

        V3() {
            var builder = common(MqttClient.builder().useMqttVersion3());
            if (config.username != null) {
                var auth = builder.simpleAuth().username(config.username);
                if (config.password != null) {
                    auth = auth.password(config.password.reveal().getBytes(StandardCharsets.UTF_8));
                }
                builder = auth.applySimpleAuth();
            }
            mqtt = builder.buildAsync();
        }

        @Override
        public CompletableFuture<?> connect() {
            return mqtt.connectWith()
                    .keepAlive(KEEP_ALIVE_SECONDS)
                    .cleanSession(config.cleanSession)
                    .send();
        }

        @Override
        public CompletableFuture<?> publish(String topic, Event event) {
            return mqtt.publishWith()
                    .topic(topic)
                    .qos(qos())
                    .retain(config.retain)
                    .payload(event.payloadBuffer())
                    .send();
        }

        @Override
        public int maxPacketSize() {
            return 268_435_460; // the largest remaining length MQTT 3.1.1 can encode, plus the fixed header
        }

        @Override
        public void connectionLost(Throwable cause) {
            // QoS 0 and 1 only (MqttConfig refuses QoS 2 with 3.1.1): the client fails their futures itself
        }

        @Override
        public CompletableFuture<?> disconnect() {
            return mqtt.disconnect();
        }
    }
}
