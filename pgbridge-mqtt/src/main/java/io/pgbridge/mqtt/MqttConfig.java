package io.pgbridge.mqtt;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.Arguments;
import io.pgbridge.spi.support.Redaction;
import io.pgbridge.spi.support.Secret;
import io.pgbridge.spi.support.UserInfo;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/**
 * The MQTT sink's settings, read once from the upstream URI and the {@link Setting}s below. Immutable;
 * {@link #toString()} never shows the password.
 *
 * <p>URI: {@code mqtt://[user[:password]@]host[:port]} (plain TCP, port 1883), {@code tcp://...} (the seed's
 * spelling of the same), {@code mqtts://...} (TLS, port 8883, the JVM's trust store and hostname verification).
 * Username and password may instead come from {@code PGBRIDGE_UPSTREAM_USERNAME}/{@code _PASSWORD} (or the seed's
 * {@code PGPROXY_LOCAL-UPSTREAM_CONFIG-USERNAME}/{@code -PASSWORD}); the URI wins when both are given.
 *
 * <p>In code: {@code new MqttSink(MqttConfig.builder().uri("mqtts://broker:8883").qos(2).build())}.
 */
public final class MqttConfig {
    /** {@value}: the QoS of every publish unless {@code mqtt.qos} says otherwise. */
    public static final int DEFAULT_QOS = 1;
    /** {@value}: joins a target topic and a routing key, as the seed does ({@code events.signup}). */
    public static final String DEFAULT_TOPIC_SEPARATOR = ".";

    public static final Duration DEFAULT_SESSION_EXPIRY = Duration.ofHours(1);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(30);

    public static final Setting PROTOCOL_VERSION = Setting.string(
                    "mqtt.protocol-version",
                    "MQTT protocol version: 5 or 3.1.1 (no user properties: no event id or headers)")
            .withDefault("5");
    public static final Setting CLIENT_ID = Setting.string(
            "mqtt.client-id",
            "MQTT client identifier; default pgbridge- plus a random suffix (set it for a persistent session)");
    public static final Setting CLEAN_SESSION = Setting.bool(
            "mqtt.clean-session",
            "Start a clean session on every connect; false keeps the session (in-flight QoS 1/2 messages) across "
                    + "reconnects",
            true);
    public static final Setting SESSION_EXPIRY = Setting.durationMs(
            "mqtt.session-expiry-ms",
            "MQTT 5, with clean-session false: how long the broker keeps the session after a disconnect (whole "
                    + "seconds)",
            DEFAULT_SESSION_EXPIRY.toMillis(),
            0,
            4_294_967_295_000L);
    public static final Setting QOS = Setting.integer(
            "mqtt.qos",
            "QoS of every publish: 0 at most once, 1 at least once, 2 exactly once per hop",
            DEFAULT_QOS,
            0,
            2);
    public static final Setting RETAIN = Setting.bool("mqtt.retain", "Publish with the retain flag", false);
    public static final Setting TOPIC_SEPARATOR = Setting.string(
                    "mqtt.topic-separator",
                    "Joins the target topic and an event's routing key: events + . + signup = events.signup; / makes "
                            + "the key an MQTT topic level")
            .withDefault(DEFAULT_TOPIC_SEPARATOR);
    public static final Setting MAX_MESSAGE_BYTES = Setting.integer(
            "mqtt.max-message-bytes",
            "Largest payload to publish; larger events are refused as dead letters. 0: only the broker's advertised "
                    + "maximum packet size (MQTT 5). Set it to Mosquitto's message_size_limit, which MQTT 3.1.1 "
                    + "publishers cannot see",
            0,
            0,
            268_435_455);
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "mqtt.connect-timeout-ms",
            "How long start() waits for the broker's CONNACK",
            DEFAULT_CONNECT_TIMEOUT.toMillis(),
            1,
            3_600_000);
    public static final Setting PUBLISH_TIMEOUT = Setting.durationMs(
            "mqtt.publish-timeout-ms",
            "How long a publish waits for the QoS flow to complete (PUBACK, PUBCOMP) before reporting a retryable "
                    + "failure",
            DEFAULT_PUBLISH_TIMEOUT.toMillis(),
            1,
            3_600_000);

    /** Every setting this sink reads, besides the core's upstream URI, user and password. */
    public static final List<Setting> SETTINGS = List.of(
            PROTOCOL_VERSION,
            CLIENT_ID,
            CLEAN_SESSION,
            SESSION_EXPIRY,
            QOS,
            RETAIN,
            TOPIC_SEPARATOR,
            MAX_MESSAGE_BYTES,
            CONNECT_TIMEOUT,
            PUBLISH_TIMEOUT);

    final String redactedUri;
    final String host;
    final int port;
    final boolean tls;
    final String username;
    final Secret password;
    final boolean mqtt5;
    final String clientId;
    final boolean cleanSession;
    final long sessionExpirySeconds;
    final int qos;
    final boolean retain;
    final String topicSeparator;
    final int maxMessageBytes;
    final Duration connectTimeout;
    final Duration publishTimeout;

    private MqttConfig(Builder b, URI uri, Problems problems) {
        this.redactedUri = Redaction.redact(b.uri);
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        this.tls = scheme.equals("mqtts");
        this.host = uri.getHost();
        this.port = uri.getPort() > 0 ? uri.getPort() : tls ? 8883 : 1883;
        if (host == null) {
            problems.add(UpstreamSettings.URI, b.uri, "names no host");
        }
        if ((uri.getRawPath() != null
                        && !uri.getRawPath().isEmpty()
                        && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null) {
            problems.add(
                    UpstreamSettings.URI,
                    b.uri,
                    "takes no path or query; write it as " + scheme + "://[user[:password]@]host[:port]");
        }
        UserInfo userInfo = UserInfo.of(uri);
        this.username = userInfo.user() != null ? userInfo.user() : b.username;
        this.password = userInfo.password() != null ? userInfo.password() : b.password;
        if (password != null && username == null) {
            problems.add(UpstreamSettings.PASSWORD.envName()
                    + "='****': a password needs a username (MQTT sends no password alone)");
        }
        String version = b.protocolVersion.trim();
        this.mqtt5 = version.equals("5") || version.equals("5.0");
        if (!mqtt5 && !version.equals("3.1.1")) {
            problems.add(PROTOCOL_VERSION, version, "must be 5 or 3.1.1");
        }
        this.clientId = b.clientId != null
                ? b.clientId
                : "pgbridge-" + UUID.randomUUID().toString().substring(0, 8);
        this.cleanSession = b.cleanSession;
        this.sessionExpirySeconds = cleanSession ? 0 : b.sessionExpiry.toSeconds();
        this.qos = b.qos;
        if (qos == 2 && !mqtt5) {
            problems.add(
                    QOS,
                    "2",
                    "needs MQTT 5: with 3.1.1 the client reports QoS 2 done at PUBREC, "
                            + "before the broker released the message; use QoS 1 or " + PROTOCOL_VERSION.envName()
                            + "=5");
        }
        this.retain = b.retain;
        this.topicSeparator = b.topicSeparator;
        String separatorProblem = MqttSink.separatorProblem(topicSeparator);
        if (separatorProblem != null) {
            problems.add(TOPIC_SEPARATOR, topicSeparator, separatorProblem);
        }
        this.maxMessageBytes = b.maxMessageBytes;
        this.connectTimeout = b.connectTimeout;
        this.publishTimeout = b.publishTimeout;
    }

    /** A builder with every default; {@link Builder#uri} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** @throws ConfigurationException listing every problem */
    static MqttConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        Builder b = builder();
        b.uri = sink.uri();
        b.username = s.string(UpstreamSettings.USERNAME);
        b.password = s.secret(UpstreamSettings.PASSWORD);
        if (problems.isEmpty()) {
            b.protocolVersion = s.string(PROTOCOL_VERSION);
            b.clientId = s.string(CLIENT_ID);
            b.cleanSession = s.bool(CLEAN_SESSION);
            b.sessionExpiry = s.duration(SESSION_EXPIRY);
            b.qos = (int) s.integer(QOS);
            b.retain = s.bool(RETAIN);
            b.topicSeparator = s.string(TOPIC_SEPARATOR);
            b.maxMessageBytes = (int) s.integer(MAX_MESSAGE_BYTES);
            b.connectTimeout = s.duration(CONNECT_TIMEOUT);
            b.publishTimeout = s.duration(PUBLISH_TIMEOUT);
        }
        return b.build(problems);
    }

    /**
     * Collects the MQTT sink's settings in code; not thread-safe. Setters throw {@link IllegalArgumentException} for a
     * value out of range; {@link #build()} checks the URI and the combinations (QoS 2 needs MQTT 5) and reports every
     * problem at once.
     */
    public static final class Builder {
        private String uri;
        private String username;
        private Secret password;
        private String protocolVersion = "5";
        private String clientId;
        private boolean cleanSession = true;
        private Duration sessionExpiry = DEFAULT_SESSION_EXPIRY;
        private int qos = DEFAULT_QOS;
        private boolean retain;
        private String topicSeparator = DEFAULT_TOPIC_SEPARATOR;
        private int maxMessageBytes;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration publishTimeout = DEFAULT_PUBLISH_TIMEOUT;

        private Builder() {}

        /** {@code mqtt://[user[:password]@]host[:port]}, {@code tcp://...} or {@code mqtts://...}; required. */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri").trim();
            return this;
        }

        /** User and password when the URI has none; the password is never shown. */
        public Builder credentials(String username, String password) {
            this.username = Objects.requireNonNull(username, "username");
            this.password = Secret.of(Objects.requireNonNull(password, "password"));
            return this;
        }

        /** {@code 5} (default) or {@code 3.1.1}. */
        public Builder protocolVersion(String version) {
            this.protocolVersion = Objects.requireNonNull(version, "version");
            return this;
        }

        /** The client identifier; default {@code pgbridge-} plus a random suffix. */
        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /** Clean session on every connect (default {@code true}); with {@code false}, the session expiry. */
        public Builder cleanSession(boolean clean, Duration sessionExpiry) {
            this.cleanSession = clean;
            this.sessionExpiry = Objects.requireNonNull(sessionExpiry, "sessionExpiry");
            return this;
        }

        /** 0, 1 (default {@link #DEFAULT_QOS}) or 2 (needs MQTT 5). */
        public Builder qos(int qos) {
            if (qos < 0 || qos > 2) {
                throw new IllegalArgumentException("qos must be 0, 1 or 2, was " + qos);
            }
            this.qos = qos;
            return this;
        }

        /** Publish with the retain flag; default {@code false}. */
        public Builder retain(boolean retain) {
            this.retain = retain;
            return this;
        }

        /** Joins target topic and routing key; default {@value #DEFAULT_TOPIC_SEPARATOR}. */
        public Builder topicSeparator(String separator) {
            this.topicSeparator = Objects.requireNonNull(separator, "separator");
            return this;
        }

        /** Largest payload to publish, 0 (default: only the broker's advertised limit) to 268,435,455. */
        public Builder maxMessageBytes(int bytes) {
            if (bytes < 0 || bytes > 268_435_455) {
                throw new IllegalArgumentException("maxMessageBytes must be between 0 and 268435455, was " + bytes);
            }
            this.maxMessageBytes = bytes;
            return this;
        }

        /** How long {@code start()} waits for CONNACK; default {@link #DEFAULT_CONNECT_TIMEOUT}. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Arguments.inRange(CONNECT_TIMEOUT, "connectTimeout", timeout);
            return this;
        }

        /** How long a publish waits for its QoS flow; default {@link #DEFAULT_PUBLISH_TIMEOUT}. */
        public Builder publishTimeout(Duration timeout) {
            this.publishTimeout = Arguments.inRange(PUBLISH_TIMEOUT, "publishTimeout", timeout);
            return this;
        }

        /** @throws ConfigurationException listing every problem, the URI's password redacted */
        public MqttConfig build() {
            return build(new Problems());
        }

        private MqttConfig build(Problems problems) {
            URI parsed = SinkConfig.parseUri(uri, "mqtt://host:1883 or mqtts://host:8883", problems);
            problems.throwIfAny();
            MqttConfig config = new MqttConfig(this, parsed, problems);
            problems.throwIfAny();
            return config;
        }
    }

    /** The endpoint without credentials, for messages. */
    String endpoint() {
        return (tls ? "mqtts://" : "mqtt://") + host + ":" + port;
    }

    @Override
    public String toString() {
        return "MqttConfig{" + redactedUri + ", mqtt" + (mqtt5 ? "5" : "3.1.1") + ", clientId=" + clientId + ", qos="
                + qos + ", retain=" + retain + ", cleanSession=" + cleanSession + '}';
    }
}
