package io.pgbridge.amqp;

import com.rabbitmq.client.ConnectionFactory;
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
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import javax.net.ssl.SSLContext;

/**
 * The settings of the RabbitMQ sink, read once from the upstream URI and the {@link Setting}s below. Immutable;
 * {@link #toString()} shows the URI with its password redacted.
 *
 * <p>URI: {@code amqp://user:password@host:5672/vhost} or {@code amqps://...} (TLS, default port 5671). The vhost is
 * the path after the first {@code /}, percent-decoded ({@code %2f} is {@code /}); no path, an empty path and the
 * seed's {@code //} all mean the default vhost {@code /}. User and password come from the URI, else from
 * {@code PGBRIDGE_UPSTREAM_USERNAME} / {@code PGBRIDGE_UPSTREAM_PASSWORD}, else the client's default {@code guest}.
 * Query parameters are refused: each knob has a setting.
 *
 * <p>In code, without a bridge's settings:
 *
 * <pre>{@code
 * AmqpSinkConfig config = AmqpSinkConfig.builder()
 *         .uri("amqp://app:secret@rabbit:5672/%2f")
 *         .deliveryMode(1)
 *         .build();
 * PgBridge.builder().sink(new AmqpSink(config))...
 * }</pre>
 */
public final class AmqpSinkConfig {
    /** AMQP delivery mode 2: the broker writes the message to disk in a durable queue. */
    public static final int DEFAULT_DELIVERY_MODE = 2;

    public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RECOVERY_INTERVAL = Duration.ofSeconds(5);
    /**
     * The AMQP heartbeat the sink asks for, in seconds (the broker may lower it): amqp-client declares the connection
     * dead after about two heartbeats without a frame from RabbitMQ, and recovery opens a new one. A network path that
     * stops carrying bytes without closing (a dead NAT entry) is thus left within about 10 s; with the broker's default
     * of 60 s a lane waited some two minutes on confirms that could never come (found by pgbridge-chaos).
     */
    static final int HEARTBEAT_SECONDS = 5;

    /**
     * {@code amqp.delivery-mode}, {@code PGBRIDGE_AMQP_DELIVERY_MODE} (seed: {@code
     * PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE}; the former key {@code delivery-mode} is accepted with a warning): 1
     * or 2.
     */
    public static final Setting DELIVERY_MODE = Setting.integer(
                    "amqp.delivery-mode",
                    "AMQP delivery mode: 1 = non-persistent, 2 = persistent (survives a broker restart in a durable "
                            + "queue)",
                    DEFAULT_DELIVERY_MODE,
                    1,
                    2)
            .withAliases("PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE")
            .withDeprecatedKeys("delivery-mode");

    /** {@code PGBRIDGE_AMQP_CONFIRM_TIMEOUT_MS}: how long a batch waits for its publisher confirms. */
    public static final Setting CONFIRM_TIMEOUT = Setting.durationMs(
            "amqp.confirm-timeout-ms",
            "How long a published batch waits for the broker's publisher confirms before it is retried",
            DEFAULT_CONFIRM_TIMEOUT.toMillis(),
            1,
            3_600_000);

    /** {@code PGBRIDGE_AMQP_CONNECT_TIMEOUT_MS}: TCP connect, AMQP handshake and channel opening, each. */
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "amqp.connect-timeout-ms",
            "Limit for the TCP connect, the AMQP handshake and opening a channel to RabbitMQ, each",
            DEFAULT_CONNECT_TIMEOUT.toMillis(),
            1,
            600_000);

    /** {@code PGBRIDGE_AMQP_RECOVERY_INTERVAL_MS}: the wait between two automatic reconnection attempts. */
    public static final Setting RECOVERY_INTERVAL = Setting.durationMs(
            "amqp.recovery-interval-ms",
            "Wait between automatic reconnection attempts after the RabbitMQ connection is lost",
            DEFAULT_RECOVERY_INTERVAL.toMillis(),
            10,
            3_600_000);

    /** Every setting this sink reads, besides the core's upstream URI, user and password. */
    public static final List<Setting> SETTINGS =
            List.of(DELIVERY_MODE, CONFIRM_TIMEOUT, CONNECT_TIMEOUT, RECOVERY_INTERVAL);

    private static final int AMQP_PORT = 5672;
    private static final int AMQPS_PORT = 5671;
    private static final String DEFAULT_VHOST = "/";

    private final boolean tls;
    private final String host;
    private final int port;
    private final String virtualHost;
    private final String username;
    private final Secret password;
    private final String redactedUri;
    private final int deliveryMode;
    private final Duration confirmTimeout;
    private final Duration connectTimeout;
    private final Duration recoveryInterval;

    private AmqpSinkConfig(
            boolean tls,
            String host,
            int port,
            String virtualHost,
            String username,
            Secret password,
            String redactedUri,
            Builder b) {
        this.tls = tls;
        this.host = host;
        this.port = port;
        this.virtualHost = virtualHost;
        this.username = username;
        this.password = password;
        this.redactedUri = redactedUri;
        this.deliveryMode = b.deliveryMode;
        this.confirmTimeout = b.confirmTimeout;
        this.connectTimeout = b.connectTimeout;
        this.recoveryInterval = b.recoveryInterval;
    }

    /** A builder with every default; {@link Builder#uri} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads and checks the URI and settings a bridge hands to the provider.
     *
     * @throws ConfigurationException listing every problem, values redacted
     */
    public static AmqpSinkConfig from(SinkConfig config) {
        Settings settings = config.settings();
        Problems problems = new Problems().check(settings, SETTINGS);
        Builder b = builder();
        b.uri = config.uri();
        b.username = settings.string(UpstreamSettings.USERNAME);
        b.password = settings.secret(UpstreamSettings.PASSWORD);
        if (problems.isEmpty()) {
            b.deliveryMode((int) settings.integer(DELIVERY_MODE))
                    .confirmTimeout(settings.duration(CONFIRM_TIMEOUT))
                    .connectTimeout(settings.duration(CONNECT_TIMEOUT))
                    .recoveryInterval(settings.duration(RECOVERY_INTERVAL));
        }
        return b.build(problems);
    }

    /** Collects the RabbitMQ sink's settings in code; not thread-safe. */
    public static final class Builder {
        private String uri;
        private String username;
        private Secret password;
        private int deliveryMode = DEFAULT_DELIVERY_MODE;
        private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration recoveryInterval = DEFAULT_RECOVERY_INTERVAL;

        private Builder() {}

        /** {@code amqp://user:password@host:5672/vhost} or {@code amqps://...}; required. */
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

        /** 1 (non-persistent) or 2 (persistent, the default {@link #DEFAULT_DELIVERY_MODE}). */
        public Builder deliveryMode(int mode) {
            if (mode != 1 && mode != 2) {
                throw new IllegalArgumentException("deliveryMode must be 1 or 2, was " + mode);
            }
            this.deliveryMode = mode;
            return this;
        }

        /** How long a batch waits for publisher confirms; default {@link #DEFAULT_CONFIRM_TIMEOUT}. */
        public Builder confirmTimeout(Duration timeout) {
            this.confirmTimeout = Arguments.inRange(CONFIRM_TIMEOUT, "confirmTimeout", timeout);
            return this;
        }

        /** TCP connect, handshake and channel opening, each; default {@link #DEFAULT_CONNECT_TIMEOUT}. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Arguments.inRange(CONNECT_TIMEOUT, "connectTimeout", timeout);
            return this;
        }

        /** Wait between reconnection attempts; default {@link #DEFAULT_RECOVERY_INTERVAL}. */
        public Builder recoveryInterval(Duration interval) {
            this.recoveryInterval = Arguments.inRange(RECOVERY_INTERVAL, "recoveryInterval", interval);
            return this;
        }

        /** @throws ConfigurationException listing every problem of the URI, value redacted */
        public AmqpSinkConfig build() {
            return build(new Problems());
        }

        private AmqpSinkConfig build(Problems problems) {
            URI parsed = SinkConfig.parseUri(uri, "amqp://user:password@host:5672/vhost or amqps://...", problems);
            if (parsed == null) {
                throw problems.exception();
            }
            String scheme = parsed.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("amqp") && !scheme.equals("amqps")) {
                problems.add(uriProblem(uri, "must start with amqp:// or amqps://"));
            }
            if (parsed.getHost() == null) {
                problems.add(uriProblem(uri, "has no host; write it as amqp://host:5672/vhost"));
            }
            if (parsed.getRawQuery() != null || parsed.getRawFragment() != null) {
                problems.add(uriProblem(
                        uri,
                        "must not have query parameters or a fragment; use the settings "
                                + SETTINGS.stream().map(Setting::envName).toList()));
            }
            String vhost = virtualHost(parsed.getRawPath());
            if (vhost == null) {
                problems.add(uriProblem(uri, "has a path of several segments; write a vhost holding '/' as %2f"));
            }
            problems.throwIfAny();
            boolean tls = scheme.equals("amqps");
            int port = parsed.getPort() > 0 ? parsed.getPort() : tls ? AMQPS_PORT : AMQP_PORT;
            UserInfo userInfo = UserInfo.of(parsed);
            String user = userInfo.user() != null ? userInfo.user() : username;
            Secret pass = userInfo.password() != null ? userInfo.password() : password;
            return new AmqpSinkConfig(tls, parsed.getHost(), port, vhost, user, pass, Redaction.redact(uri), this);
        }
    }

    /** The vhost of a raw URI path, or {@code null} when the path has several segments. */
    static String virtualHost(String rawPath) {
        if (rawPath == null || rawPath.isEmpty() || rawPath.equals("/") || rawPath.equals("//")) {
            return DEFAULT_VHOST;
        }
        String raw = rawPath.substring(1);
        return raw.contains("/") ? null : UserInfo.decode(raw);
    }

    private static String uriProblem(String uri, String rule) {
        return Settings.problem(UpstreamSettings.URI, uri, rule);
    }

    /**
     * A connection factory for these settings, with automatic connection recovery on and topology recovery off (the
     * sink declares nothing). {@code amqps} uses the JVM's default {@link SSLContext} (its trust store, and its key
     * store for client certificates) with hostname verification: there is no trust-all mode.
     *
     * @throws ConfigurationException when the JVM has no default TLS context
     */
    ConnectionFactory newConnectionFactory(ThreadFactory threads) {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost(host);
        factory.setPort(port);
        factory.setVirtualHost(virtualHost);
        if (username != null) {
            factory.setUsername(username);
        }
        if (password != null) {
            factory.setPassword(password.reveal());
        }
        factory.setConnectionTimeout(Math.toIntExact(connectTimeout.toMillis()));
        factory.setHandshakeTimeout(Math.toIntExact(connectTimeout.toMillis()));
        // Opening a channel and confirm.select are RPCs; the client's 10 min default would stall a lane that long on
        // a half-open connection, until heartbeats notice it.
        factory.setChannelRpcTimeout(Math.toIntExact(connectTimeout.toMillis()));
        factory.setRequestedHeartbeat(HEARTBEAT_SECONDS);
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(false);
        factory.setNetworkRecoveryInterval(recoveryInterval.toMillis());
        factory.setThreadFactory(threads);
        if (tls) {
            try {
                factory.useSslProtocol(SSLContext.getDefault());
            } catch (NoSuchAlgorithmException e) {
                throw new ConfigurationException(
                        Settings.problem(UpstreamSettings.URI, redactedUri, "needs TLS, but the JVM has none: " + e));
            }
            // amqp-client 5.37 already verifies with this call; explicit so that no client version can drop it.
            factory.enableHostnameVerification();
        }
        return factory;
    }

    /** Whether the URI is {@code amqps}. */
    public boolean tls() {
        return tls;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String virtualHost() {
        return virtualHost;
    }

    /** The user, or {@code null} for the client's default ({@code guest}). */
    public String username() {
        return username;
    }

    /** The password, or {@code null} for the client's default; its {@code toString()} is {@code ****}. */
    public Secret password() {
        return password;
    }

    /** The upstream URI with its password replaced by {@code ****}, for messages. */
    public String redactedUri() {
        return redactedUri;
    }

    /** 1 (non-persistent) or 2 (persistent). */
    public int deliveryMode() {
        return deliveryMode;
    }

    public Duration confirmTimeout() {
        return confirmTimeout;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration recoveryInterval() {
        return recoveryInterval;
    }

    @Override
    public String toString() {
        return "AmqpSinkConfig{uri=" + redactedUri + ", vhost=" + virtualHost + ", deliveryMode=" + deliveryMode
                + ", confirmTimeout=" + confirmTimeout.toMillis() + "ms}";
    }
}
