package io.pgbridge.kafka;

import io.pgbridge.ConfigurationException;
import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes events to Kafka topics ({@code topic:NAME}) with one idempotent producer ({@code acks=all},
 * {@code enable.idempotence=true}): retries inside the client neither duplicate nor reorder records. An event counts
 * as delivered once its send succeeded (the in-sync replicas have the record). Created by {@link KafkaSinkProvider};
 * see {@link KafkaSinkConfig} for the settings.
 *
 * <p>Each record: key as {@link RecordKeys} says (the row's key for a WAL change, else the routing key); value the
 * payload bytes unchanged; timestamp the commit time when known; headers {@code pgbridge-event-id},
 * {@code pgbridge-source}, {@code pgbridge-channel}, {@code pgbridge-routing-key} (when set), {@code content-type}
 * (when known), then the event's own headers (trace context such as {@code traceparent} travels among them), all
 * UTF-8.
 *
 * <p>Topics must exist: {@link #start()} checks every topic {@link #validateTarget validated} before it (the routes'
 * targets), and a topic first seen in {@link #publish} is checked then; a missing topic is an error unless
 * {@code kafka.auto-create-topics} is on.
 *
 * <p>Thread-safe: the producer is shared by all delivery threads. kafka-clients starts its own threads
 * ({@code kafka-producer-network-thread | <client id>}, {@code kafka-admin-client-thread | ...}); the sink's thread
 * factory is not used.
 */
final class KafkaSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(KafkaSink.class);

    static final String HEADER_EVENT_ID = "pgbridge-event-id";
    static final String HEADER_SOURCE = "pgbridge-source";
    static final String HEADER_CHANNEL = "pgbridge-channel";
    static final String HEADER_ROUTING_KEY = "pgbridge-routing-key";
    static final String HEADER_CONTENT_TYPE = "content-type";

    /** Kafka's rule for topic names (org.apache.kafka.common.internals.Topic). */
    private static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final KafkaSinkConfig config;
    /** Topics of the routes, validated before start: checked by start(). */
    private final Set<String> declaredTopics = ConcurrentHashMap.newKeySet();
    /** Topics known to exist: checked once each. */
    private final Set<String> existingTopics = ConcurrentHashMap.newKeySet();

    private final Object lock = new Object();
    private Admin admin; // guarded by lock
    private Producer<byte[], byte[]> producer; // guarded by lock
    private boolean closed; // guarded by lock

    /**
     * A sink for {@code PgBridge.Builder.sink(...)}. The Kafka client names and starts its own threads
     * ({@code kafka-producer-network-thread | <client.id>}).
     */
    public KafkaSink(KafkaSinkConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "kafka";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of("topic");
    }

    /** Checks the topic name against Kafka's rules, and remembers the topic for {@link #start()}'s check. */
    @Override
    public List<String> validateTarget(Target target) {
        String name = target.name();
        if (!LEGAL_TOPIC.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            return List.of("topic '" + name + "' is not a legal Kafka topic name: 1 to 249 of a-z A-Z 0-9 . _ -");
        }
        declaredTopics.add(name);
        return List.of();
    }

    /**
     * Connects an admin client, waits until the cluster answers, checks the routes' topics exist and creates the
     * producer.
     *
     * @throws ConnectionException when no bootstrap server answers within {@code kafka.connect-timeout-ms} or the
     *     credentials are refused; the message names the servers and the user, never the password
     * @throws ConfigurationException naming every route topic that does not exist (unless
     *     {@code kafka.auto-create-topics})
     */
    @Override
    public void start() {
        Admin a;
        synchronized (lock) {
            if (admin != null || closed) {
                throw new IllegalStateException("start() can be called once");
            }
            Map<String, Object> props = config.clientProperties();
            int timeout = Math.toIntExact(config.connectTimeout().toMillis());
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeout);
            props.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, timeout);
            a = Admin.create(props);
            admin = a;
        }
        try {
            try {
                a.describeCluster().nodes().get(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                String who = config.username() == null ? "" : " as user '" + config.username() + "'";
                throw new ConnectionException(
                        "Cannot connect to Kafka at " + config.endpoint() + who + " within "
                                + config.connectTimeout().toMillis() + " ms: " + describe(e),
                        e);
            }
            if (!config.autoCreateTopics() && !declaredTopics.isEmpty()) {
                Set<String> missing = new TreeSet<>();
                for (String topic : declaredTopics) {
                    String problem = checkTopic(a, topic);
                    if (problem != null) {
                        missing.add(problem);
                    }
                }
                if (!missing.isEmpty()) {
                    throw new ConfigurationException(List.copyOf(missing));
                }
            }
            synchronized (lock) {
                if (closed) {
                    throw new ConnectionException("the Kafka sink was closed while starting");
                }
                producer = new KafkaProducer<>(config.producerProperties());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new ConnectionException("Interrupted while connecting to Kafka at " + config.endpoint(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        log.info("Kafka sink connected: {}", config);
    }

    /**
     * Asks the cluster whether the topic exists (an admin {@code describeTopics}), waiting at most
     * {@code kafka.connect-timeout-ms}. A topic missing while {@code kafka.auto-create-topics} is on is
     * {@link Existence#CANNOT_CHECK}: the broker creates it on first use if its {@code auto.create.topics.enable}
     * is on, which a client cannot see.
     *
     * @throws IllegalStateException before {@link #start()}
     * @throws ConnectionException when the cluster does not answer in time or refuses the request
     */
    @Override
    public Existence targetExists(Target target) throws InterruptedException {
        Admin a;
        synchronized (lock) {
            a = admin;
        }
        if (a == null) {
            throw new IllegalStateException("targetExists() needs start() first");
        }
        if (checkTopic(a, target.name()) == null) {
            return Existence.EXISTS;
        }
        return config.autoCreateTopics() ? Existence.CANNOT_CHECK : Existence.MISSING;
    }

    /**
     * Whether {@code topic} exists; {@code null} when it does (remembered), else why not.
     *
     * @throws ConnectionException when the cluster does not answer
     */
    private String checkTopic(Admin a, String topic) throws InterruptedException {
        if (existingTopics.contains(topic)) {
            return null;
        }
        try {
            a.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            existingTopics.add(topic);
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException
                    || e.getCause() instanceof InvalidTopicException) {
                return "topic '" + topic + "' does not exist on " + config.endpoint() + ": create it (kafka-topics.sh"
                        + " --create --topic " + topic + "), or set "
                        + KafkaSinkConfig.AUTO_CREATE_TOPICS.envName() + "=true to let the broker create it";
            }
            throw new ConnectionException(
                    "Cannot check topic '" + topic + "' on " + config.endpoint() + ": " + describe(e), e);
        } catch (TimeoutException e) {
            throw new ConnectionException(
                    "Kafka at " + config.endpoint() + " did not describe topic '" + topic + "' within "
                            + config.connectTimeout().toMillis() + " ms",
                    e);
        }
    }

    @Override
    public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
        Producer<byte[], byte[]> p;
        Admin a;
        synchronized (lock) {
            if (producer == null || closed) {
                return PublishResult.failed(0, "the Kafka sink is " + (closed ? "closed" : "not started"), null);
            }
            p = producer;
            a = admin;
        }
        String topic = target.name();
        if (!config.autoCreateTopics()) {
            try {
                String missing = checkTopic(a, topic);
                if (missing != null) {
                    return PublishResult.failed(0, missing, null);
                }
            } catch (ConnectionException | KafkaException e) {
                return PublishResult.failed(0, e.getMessage(), e);
            }
        }
        return send(p, topic, events, config.endpoint(), config.deliveryTimeout());
    }

    /**
     * Sends {@code events} in order and waits for the broker's acknowledgements. The invariant: the result confirms
     * exactly the leading events whose sends succeeded, never one that was not sent or not acknowledged.
     *
     * <p>Sending stops at the first send that failed at once (no metadata within {@code max.block.ms}: each further
     * send would block as long) or that {@code send()} refused; a send acknowledged before the next one is made is
     * the normal case on a fast broker, and sending goes on.
     */
    static PublishResult send(
            Producer<byte[], byte[]> p, String topic, List<Event> events, String endpoint, Duration deliveryTimeout)
            throws InterruptedException {
        List<Future<RecordMetadata>> sends = new ArrayList<>(events.size());
        PublishResult refused = null;
        for (Event event : events) {
            Future<RecordMetadata> send;
            try {
                send = p.send(record(topic, event));
            } catch (KafkaException | IllegalStateException e) {
                // metadata not available within max.block.ms, or the producer is closed
                refused = failure(sends.size(), topic, endpoint, e);
                break;
            }
            sends.add(send);
            if (failedAtOnce(send)) {
                break;
            }
        }
        long deadline = System.nanoTime() + deliveryTimeout.plus(CLOSE_WAIT).toNanos();
        for (int i = 0; i < sends.size(); i++) {
            try {
                sends.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                return failure(i, topic, endpoint, e.getCause());
            } catch (TimeoutException e) {
                return PublishResult.failed(
                        i,
                        "Kafka at " + endpoint + " did not acknowledge within " + deliveryTimeout.toMillis() + " ms",
                        e);
            }
        }
        return refused != null ? refused : PublishResult.confirmed(sends.size());
    }

    /** Whether a send is already decided, and failed. */
    private static boolean failedAtOnce(Future<RecordMetadata> send) throws InterruptedException {
        if (!send.isDone()) {
            return false;
        }
        try {
            send.get();
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /** A record too large for the broker can never be published: dead-lettered. Anything else is retried. */
    private static PublishResult failure(int confirmed, String topic, String endpoint, Throwable cause) {
        String reason = "producing to topic '" + topic + "' on " + endpoint + " failed: " + describe(cause);
        if (cause instanceof RecordTooLargeException || cause instanceof RecordBatchTooLargeException) {
            return PublishResult.rejected(confirmed, reason);
        }
        return PublishResult.failed(confirmed, reason, cause);
    }

    /** The record of one event: key, payload, commit time and headers. */
    static ProducerRecord<byte[], byte[]> record(String topic, Event event) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(header(HEADER_EVENT_ID, event.id()));
        headers.add(header(HEADER_SOURCE, event.source()));
        headers.add(header(HEADER_CHANNEL, event.channel()));
        if (event.routingKey() != null) {
            headers.add(header(HEADER_ROUTING_KEY, event.routingKey()));
        }
        if (event.contentType() != null) {
            headers.add(header(HEADER_CONTENT_TYPE, event.contentType()));
        }
        event.headers().forEach((name, value) -> headers.add(header(name, value)));
        Long timestamp = event.commitTime() == null ? null : event.commitTime().toEpochMilli();
        return new ProducerRecord<>(topic, null, timestamp, RecordKeys.key(event), event.payload(), headers);
    }

    private static RecordHeader header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static String describe(Throwable e) {
        Throwable t = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /**
     * Closes the producer, waiting up to 5 s for records already sent (their publishes then complete), and the admin
     * client. Idempotent; failures are logged.
     */
    @Override
    public void close() {
        Producer<byte[], byte[]> p;
        Admin a;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            p = producer;
            a = admin;
        }
        try {
            if (p != null) {
                p.close(CLOSE_WAIT);
            }
        } catch (RuntimeException e) {
            log.warn("Closing the Kafka producer for {} failed: {}", config.endpoint(), describe(e));
        }
        try {
            if (a != null) {
                a.close(Duration.ZERO);
            }
        } catch (RuntimeException e) {
            log.warn("Closing the Kafka admin client for {} failed: {}", config.endpoint(), describe(e));
        }
    }

    @Override
    public String toString() {
        return "KafkaSink{" + config + '}';
    }
}
