package io.pgbridge.kafka;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.Secret;
import io.pgbridge.spi.support.ServerList;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Kafka sink's settings, read once from the upstream URI and the {@link Setting}s below. Immutable;
 * {@link #toString()} never shows the SASL password.
 *
 * <p>URI: {@code kafka://[user:password@]host:port[,host:port...]} (the bootstrap servers, default port 9092), or
 * {@code kafkas://...} for TLS with the JVM's trust store and hostname verification. A user and password (from the
 * URI, else {@code PGBRIDGE_UPSTREAM_USERNAME}/{@code _PASSWORD}) turn on SASL ({@code SASL_PLAINTEXT}, or
 * {@code SASL_SSL} with {@code kafkas}) with {@code kafka.sasl-mechanism}. No path or query.
 */
public final class KafkaSinkConfig {
    static final int DEFAULT_PORT = 9092;
    static final Set<String> COMPRESSIONS = Set.of("none", "gzip", "snappy", "lz4", "zstd");
    static final Set<String> SASL_MECHANISMS = Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

    public static final Setting CLIENT_ID = Setting.string(
                    "kafka.client-id", "The producer's client.id, seen in broker logs and quotas")
            .withDefault("pgbridge");
    public static final Setting SASL_MECHANISM = Setting.string(
                    "kafka.sasl-mechanism",
                    "SASL mechanism when a user and password are given: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
            .withDefault("PLAIN");
    public static final Setting COMPRESSION = Setting.string(
                    "kafka.compression", "Batch compression: none, gzip, snappy, lz4 or zstd")
            .withDefault("lz4");
    public static final Setting LINGER = Setting.durationMs(
            "kafka.linger-ms", "How long the producer waits to fill a batch before sending it", 5, 0, 60_000);
    public static final Setting BATCH_SIZE =
            Setting.integer("kafka.batch-size", "Largest batch per partition, in bytes", 65_536, 0, 64L * 1024 * 1024);
    public static final Setting DELIVERY_TIMEOUT = Setting.durationMs(
            "kafka.delivery-timeout-ms",
            "How long a record may take to be acknowledged, retries inside the client included, before the publish "
                    + "fails and the pipeline retries it",
            30_000,
            1_000,
            3_600_000);
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "kafka.connect-timeout-ms",
            "How long start() waits for the cluster to answer and for the topic check",
            10_000,
            1,
            600_000);
    public static final Setting AUTO_CREATE_TOPICS = Setting.bool(
            "kafka.auto-create-topics",
            "Let the broker create missing topics on first use (its auto.create.topics.enable must be on too) "
                    + "instead of failing start() for a missing topic",
            false);

    /** Every setting this sink reads, besides the core's upstream URI, user and password. */
    public static final List<Setting> SETTINGS = List.of(
            CLIENT_ID,
            SASL_MECHANISM,
            COMPRESSION,
            LINGER,
            BATCH_SIZE,
            DELIVERY_TIMEOUT,
            CONNECT_TIMEOUT,
            AUTO_CREATE_TOPICS);

    private final String bootstrapServers;
    private final boolean tls;
    private final String username;
    private final Secret password;
    private final String clientId;
    private final String saslMechanism;
    private final String compression;
    private final Duration linger;
    private final int batchSize;
    private final Duration deliveryTimeout;
    private final Duration connectTimeout;
    private final boolean autoCreateTopics;

    private KafkaSinkConfig(
            String bootstrapServers, boolean tls, String username, Secret password, Settings s, String mechanism) {
        this.bootstrapServers = bootstrapServers;
        this.tls = tls;
        this.username = username;
        this.password = password;
        this.clientId = s.string(CLIENT_ID);
        this.saslMechanism = mechanism;
        this.compression = s.string(COMPRESSION).trim().toLowerCase(Locale.ROOT);
        this.linger = s.duration(LINGER);
        this.batchSize = Math.toIntExact(s.integer(BATCH_SIZE));
        this.deliveryTimeout = s.duration(DELIVERY_TIMEOUT);
        this.connectTimeout = s.duration(CONNECT_TIMEOUT);
        this.autoCreateTopics = s.bool(AUTO_CREATE_TOPICS);
    }

    /**
     * Reads and checks the URI and settings.
     *
     * @throws ConfigurationException listing every problem, values redacted
     */
    static KafkaSinkConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        String compression = s.string(COMPRESSION);
        if (compression != null && !COMPRESSIONS.contains(compression.trim().toLowerCase(Locale.ROOT))) {
            problems.add(Settings.problem(COMPRESSION, compression, "must be one of " + sorted(COMPRESSIONS)));
        }
        String mechanism = s.string(SASL_MECHANISM);
        mechanism = mechanism == null ? "" : mechanism.trim().toUpperCase(Locale.ROOT);
        if (!SASL_MECHANISMS.contains(mechanism)) {
            problems.add(Settings.problem(
                    SASL_MECHANISM, s.string(SASL_MECHANISM), "must be one of " + sorted(SASL_MECHANISMS)));
        }
        ServerList servers = ServerList.parse(
                sink,
                Set.of("kafka", "kafkas"),
                DEFAULT_PORT,
                "kafka://host:9092[,host2:9092] or kafkas://...",
                SETTINGS,
                problems);
        if (servers == null) {
            throw problems.exception();
        }
        String user = servers.user();
        Secret pass = servers.password();
        String username = user != null ? user : s.string(UpstreamSettings.USERNAME);
        Secret password = pass != null ? pass : s.secret(UpstreamSettings.PASSWORD);
        if ((username == null) != (password == null)) {
            problems.add("SASL needs both a user and a password (in the URI or " + UpstreamSettings.USERNAME.envName()
                    + "/" + UpstreamSettings.PASSWORD.envName() + "); only the "
                    + (username == null ? "password" : "user") + " is given");
        }
        problems.throwIfAny();
        return new KafkaSinkConfig(
                String.join(",", servers.hostPorts()),
                servers.scheme().equals("kafkas"),
                username,
                password,
                s,
                mechanism);
    }

    private static List<String> sorted(Set<String> values) {
        return values.stream().sorted().toList();
    }

    /** The client settings shared by the producer and the admin client: servers, client id, TLS and SASL. */
    Map<String, Object> clientProperties() {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        boolean sasl = username != null;
        p.put(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG,
                sasl ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT") : (tls ? "SSL" : "PLAINTEXT"));
        if (sasl) {
            p.put(SaslConfigs.SASL_MECHANISM, saslMechanism);
            String module = saslMechanism.equals("PLAIN")
                    ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            // a PASSWORD-type config: kafka-clients prints it as [hidden]
            p.put(
                    SaslConfigs.SASL_JAAS_CONFIG,
                    module + " required username=\"" + jaasEscape(username) + "\" password=\""
                            + jaasEscape(password.reveal()) + "\";");
        }
        // Bounded reconnection backoff, so that a broker back from a restart is found within a second.
        p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        return p;
    }

    private static String jaasEscape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /**
     * The idempotent producer's settings: {@code acks=all}, {@code enable.idempotence=true} (retries inside the
     * client neither duplicate nor reorder), byte-array keys and values.
     */
    Map<String, Object> producerProperties() {
        Map<String, Object> p = clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        p.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        p.put(ProducerConfig.LINGER_MS_CONFIG, Math.toIntExact(linger.toMillis()));
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, batchSize);
        long delivery = deliveryTimeout.toMillis();
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.toIntExact(delivery));
        // delivery.timeout.ms must be at least linger.ms + request.timeout.ms
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.toIntExact(Math.max(1, delivery - linger.toMillis())));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, delivery);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return p;
    }

    /** The bootstrap servers, {@code host:port} comma-separated. */
    String bootstrapServers() {
        return bootstrapServers;
    }

    /** The servers with the scheme, without credentials, for messages. */
    String endpoint() {
        return (tls ? "kafkas://" : "kafka://") + bootstrapServers;
    }

    String username() {
        return username;
    }

    Duration deliveryTimeout() {
        return deliveryTimeout;
    }

    Duration connectTimeout() {
        return connectTimeout;
    }

    boolean autoCreateTopics() {
        return autoCreateTopics;
    }

    @Override
    public String toString() {
        return "KafkaSinkConfig{" + endpoint() + (username == null ? "" : ", sasl " + saslMechanism + " as " + username)
                + ", clientId=" + clientId + ", compression=" + compression + ", linger=" + linger.toMillis()
                + "ms, batchSize=" + batchSize + ", deliveryTimeout=" + deliveryTimeout.toMillis() + "ms"
                + (autoCreateTopics ? ", auto-create topics" : "") + '}';
    }
}
