package io.pgbridge.kafka;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.Arguments;
import io.pgbridge.spi.support.Secret;
import io.pgbridge.spi.support.ServerList;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
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
 *
 * <p>In code: {@code new KafkaSink(KafkaSinkConfig.builder().uri("kafkas://k1:9093,k2:9093").credentials("app",
 * password).compression("zstd").build())}.
 */
public final class KafkaSinkConfig {
    static final int DEFAULT_PORT = 9092;
    static final String FORM = "kafka://host:9092[,host2:9092] or kafkas://...";
    static final int MAX_BATCH_SIZE = 64 * 1024 * 1024;

    public static final String DEFAULT_CLIENT_ID = "pgbridge";
    public static final String DEFAULT_SASL_MECHANISM = "PLAIN";
    public static final String DEFAULT_COMPRESSION = "lz4";
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(5);
    /** Bytes. */
    public static final int DEFAULT_BATCH_SIZE = 65_536;

    public static final Duration DEFAULT_DELIVERY_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Set<String> COMPRESSIONS = Set.of("none", "gzip", "snappy", "lz4", "zstd");
    static final Set<String> SASL_MECHANISMS = Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

    public static final Setting CLIENT_ID = Setting.string(
                    "kafka.client-id", "The producer's client.id, seen in broker logs and quotas")
            .withDefault(DEFAULT_CLIENT_ID);
    public static final Setting SASL_MECHANISM = Setting.string(
                    "kafka.sasl-mechanism",
                    "SASL mechanism when a user and password are given: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
            .withDefault(DEFAULT_SASL_MECHANISM);
    public static final Setting COMPRESSION = Setting.string(
                    "kafka.compression", "Batch compression: none, gzip, snappy, lz4 or zstd")
            .withDefault(DEFAULT_COMPRESSION);
    public static final Setting LINGER = Setting.durationMs(
            "kafka.linger-ms",
            "How long the producer waits to fill a batch before sending it",
            DEFAULT_LINGER.toMillis(),
            0,
            60_000);
    public static final Setting BATCH_SIZE = Setting.integer(
            "kafka.batch-size", "Largest batch per partition, in bytes", DEFAULT_BATCH_SIZE, 0, MAX_BATCH_SIZE);
    public static final Setting DELIVERY_TIMEOUT = Setting.durationMs(
            "kafka.delivery-timeout-ms",
            "How long a record may take to be acknowledged, retries inside the client included, before the publish "
                    + "fails and the pipeline retries it",
            DEFAULT_DELIVERY_TIMEOUT.toMillis(),
            1_000,
            3_600_000);
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "kafka.connect-timeout-ms",
            "How long start() waits for the cluster to answer and for the topic check",
            DEFAULT_CONNECT_TIMEOUT.toMillis(),
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

    private KafkaSinkConfig(Builder b, ServerList servers) {
        this.bootstrapServers = String.join(",", servers.hostPorts());
        this.tls = servers.scheme().equals("kafkas");
        this.username = servers.user() != null ? servers.user() : b.username;
        this.password = servers.password() != null ? servers.password() : b.password;
        this.clientId = b.clientId;
        this.saslMechanism = b.saslMechanism.trim().toUpperCase(Locale.ROOT);
        this.compression = b.compression.trim().toLowerCase(Locale.ROOT);
        this.linger = b.linger;
        this.batchSize = b.batchSize;
        this.deliveryTimeout = b.deliveryTimeout;
        this.connectTimeout = b.connectTimeout;
        this.autoCreateTopics = b.autoCreateTopics;
    }

    /** A builder with every default; {@link Builder#uri} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads and checks the URI and settings.
     *
     * @throws ConfigurationException listing every problem, values redacted
     */
    static KafkaSinkConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        Builder b = builder();
        b.uri = sink.uri();
        b.username = s.string(UpstreamSettings.USERNAME);
        b.password = s.secret(UpstreamSettings.PASSWORD);
        b.clientId = s.string(CLIENT_ID);
        b.saslMechanism = s.string(SASL_MECHANISM);
        b.compression = s.string(COMPRESSION);
        if (problems.isEmpty()) {
            b.linger = s.duration(LINGER);
            b.batchSize = Math.toIntExact(s.integer(BATCH_SIZE));
            b.deliveryTimeout = s.duration(DELIVERY_TIMEOUT);
            b.connectTimeout = s.duration(CONNECT_TIMEOUT);
            b.autoCreateTopics = s.bool(AUTO_CREATE_TOPICS);
        }
        return b.build(problems);
    }

    /** Collects the Kafka sink's settings in code; not thread-safe. */
    public static final class Builder {
        private String uri;
        private String username;
        private Secret password;
        private String clientId = DEFAULT_CLIENT_ID;
        private String saslMechanism = DEFAULT_SASL_MECHANISM;
        private String compression = DEFAULT_COMPRESSION;
        private Duration linger = DEFAULT_LINGER;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Duration deliveryTimeout = DEFAULT_DELIVERY_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private boolean autoCreateTopics;

        private Builder() {}

        /** {@code kafka://[user:password@]host:port[,host:port...]} or {@code kafkas://...}; required. */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri").trim();
            return this;
        }

        /** SASL user and password when the URI has none; the password is never shown. */
        public Builder credentials(String username, String password) {
            this.username = Objects.requireNonNull(username, "username");
            this.password = Secret.of(Objects.requireNonNull(password, "password"));
            return this;
        }

        /** The producer's {@code client.id}; default {@link #DEFAULT_CLIENT_ID}. */
        public Builder clientId(String clientId) {
            this.clientId = Objects.requireNonNull(clientId, "clientId");
            return this;
        }

        /**
         * {@code PLAIN}, {@code SCRAM-SHA-256} or {@code SCRAM-SHA-512} (checked by {@link #build()}); default
         * {@link #DEFAULT_SASL_MECHANISM}.
         */
        public Builder saslMechanism(String mechanism) {
            this.saslMechanism = Objects.requireNonNull(mechanism, "mechanism");
            return this;
        }

        /**
         * {@code none}, {@code gzip}, {@code snappy}, {@code lz4} or {@code zstd} (checked by {@link #build()});
         * default {@link #DEFAULT_COMPRESSION}.
         */
        public Builder compression(String compression) {
            this.compression = Objects.requireNonNull(compression, "compression");
            return this;
        }

        /** How long the producer waits to fill a batch, 0 to 1 minute; default {@link #DEFAULT_LINGER}. */
        public Builder linger(Duration linger) {
            this.linger = Arguments.inRange(LINGER, "linger", linger);
            return this;
        }

        /** Largest batch per partition in bytes, 0 to 64 MiB; default {@link #DEFAULT_BATCH_SIZE}. */
        public Builder batchSize(int bytes) {
            this.batchSize = (int) Arguments.inRange(BATCH_SIZE, "batchSize", bytes);
            return this;
        }

        /**
         * How long a record may take to be acknowledged, 1 second to 1 hour; default
         * {@link #DEFAULT_DELIVERY_TIMEOUT}.
         */
        public Builder deliveryTimeout(Duration timeout) {
            this.deliveryTimeout = Arguments.inRange(DELIVERY_TIMEOUT, "deliveryTimeout", timeout);
            return this;
        }

        /**
         * How long {@code start()} waits for the cluster and the topic check, up to 10 minutes; default
         * {@link #DEFAULT_CONNECT_TIMEOUT}.
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Arguments.inRange(CONNECT_TIMEOUT, "connectTimeout", timeout);
            return this;
        }

        /** Let the broker create missing topics on first use instead of failing {@code start()}; default off. */
        public Builder autoCreateTopics(boolean autoCreate) {
            this.autoCreateTopics = autoCreate;
            return this;
        }

        /** @throws ConfigurationException listing every problem, the URI's password redacted */
        public KafkaSinkConfig build() {
            return build(new Problems());
        }

        private KafkaSinkConfig build(Problems problems) {
            if (compression == null || !COMPRESSIONS.contains(compression.trim().toLowerCase(Locale.ROOT))) {
                problems.add(COMPRESSION, compression, "must be one of " + sorted(COMPRESSIONS));
            }
            if (saslMechanism == null
                    || !SASL_MECHANISMS.contains(saslMechanism.trim().toUpperCase(Locale.ROOT))) {
                problems.add(SASL_MECHANISM, saslMechanism, "must be one of " + sorted(SASL_MECHANISMS));
            }
            ServerList servers =
                    ServerList.parse(uri, Set.of("kafka", "kafkas"), DEFAULT_PORT, FORM, SETTINGS, problems);
            if (servers != null) {
                String user = servers.user() != null ? servers.user() : username;
                Secret pass = servers.password() != null ? servers.password() : password;
                if ((user == null) != (pass == null)) {
                    problems.add("SASL needs both a user and a password (in the URI or "
                            + UpstreamSettings.USERNAME.envName() + "/" + UpstreamSettings.PASSWORD.envName()
                            + "); only the " + (user == null ? "password" : "user") + " is given");
                }
            }
            problems.throwIfAny();
            return new KafkaSinkConfig(this, servers);
        }
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
