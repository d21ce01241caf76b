package io.pgbridge.nats;

import io.nats.client.Options;
import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.Arguments;
import io.pgbridge.spi.support.Secret;
import io.pgbridge.spi.support.ServerList;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import javax.net.ssl.SSLContext;

/**
 * The NATS sink's settings, read once from the upstream URI and the {@link Setting}s below. Immutable;
 * {@link #toString()} never shows the password or token.
 *
 * <p>URI: {@code nats://[user:password@|token@]host[:4222][,host2:4222...]}, or {@code tls://...} for TLS with the
 * JVM's default {@link SSLContext} (its trust store). User and password may instead come from
 * {@code PGBRIDGE_UPSTREAM_USERNAME}/{@code _PASSWORD}; the URI wins when both are given. No path or query.
 *
 * <p>In code: {@code new NatsSink(NatsSinkConfig.builder().uri("tls://n1:4222,n2:4222").credentials("app",
 * password).build())}.
 */
public final class NatsSinkConfig {
    static final int DEFAULT_PORT = 4222;
    static final String FORM = "nats://[user:password@]host:4222[,host2:4222] or tls://...";

    public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RECONNECT_WAIT = Duration.ofSeconds(1);

    public static final Setting PUBLISH_TIMEOUT = Setting.durationMs(
            "nats.publish-timeout-ms",
            "How long a batch waits for JetStream's publish acks (core subjects: for the server's PONG after it)",
            DEFAULT_PUBLISH_TIMEOUT.toMillis(),
            1,
            3_600_000);
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "nats.connect-timeout-ms",
            "How long start() waits to connect to a server",
            DEFAULT_CONNECT_TIMEOUT.toMillis(),
            1,
            600_000);
    public static final Setting RECONNECT_WAIT = Setting.durationMs(
            "nats.reconnect-wait-ms",
            "Wait between reconnection attempts after the connection is lost",
            DEFAULT_RECONNECT_WAIT.toMillis(),
            10,
            3_600_000);
    public static final Setting CORE_SUBJECTS = Setting.bool(
            "nats.core-subjects",
            "Publish to subjects no JetStream stream captures on core NATS, at most once (nothing is stored; "
                    + "subscribers not connected miss the message), instead of refusing them",
            false);

    /** Every setting this sink reads, besides the core's upstream URI, user and password. */
    public static final List<Setting> SETTINGS =
            List.of(PUBLISH_TIMEOUT, CONNECT_TIMEOUT, RECONNECT_WAIT, CORE_SUBJECTS);

    private final List<String> servers;
    private final boolean tls;
    private final String username;
    private final Secret password;
    private final Duration publishTimeout;
    private final Duration connectTimeout;
    private final Duration reconnectWait;
    private final boolean coreSubjects;

    private NatsSinkConfig(Builder b, ServerList list) {
        this.servers = list.hostPorts().stream()
                .map(hostPort -> list.scheme() + "://" + hostPort)
                .toList();
        this.tls = list.scheme().equals("tls");
        boolean inUri = list.user() != null || list.password() != null;
        this.username = inUri ? list.user() : b.username;
        this.password = inUri ? list.password() : b.password;
        this.publishTimeout = b.publishTimeout;
        this.connectTimeout = b.connectTimeout;
        this.reconnectWait = b.reconnectWait;
        this.coreSubjects = b.coreSubjects;
    }

    /** A builder with every default; {@link Builder#uri} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** @throws ConfigurationException listing every problem, values redacted */
    static NatsSinkConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        Builder b = builder();
        b.uri = sink.uri();
        b.username = s.string(UpstreamSettings.USERNAME);
        b.password = s.secret(UpstreamSettings.PASSWORD);
        if (problems.isEmpty()) {
            b.publishTimeout = s.duration(PUBLISH_TIMEOUT);
            b.connectTimeout = s.duration(CONNECT_TIMEOUT);
            b.reconnectWait = s.duration(RECONNECT_WAIT);
            b.coreSubjects = s.bool(CORE_SUBJECTS);
        }
        return b.build(problems);
    }

    /** Collects the NATS sink's settings in code; not thread-safe. */
    public static final class Builder {
        private String uri;
        private String username;
        private Secret password;
        private Duration publishTimeout = DEFAULT_PUBLISH_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration reconnectWait = DEFAULT_RECONNECT_WAIT;
        private boolean coreSubjects;

        private Builder() {}

        /** {@code nats://[user:password@|token@]host[:4222][,host2:4222...]} or {@code tls://...}; required. */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri").trim();
            return this;
        }

        /** User and password when the URI has no credentials; the password is never shown. */
        public Builder credentials(String username, String password) {
            this.username = Objects.requireNonNull(username, "username");
            this.password = Secret.of(Objects.requireNonNull(password, "password"));
            return this;
        }

        /**
         * How long a batch waits for JetStream's publish acks (core subjects: the PONG after it), up to 1 hour;
         * default {@link #DEFAULT_PUBLISH_TIMEOUT}.
         */
        public Builder publishTimeout(Duration timeout) {
            this.publishTimeout = Arguments.inRange(PUBLISH_TIMEOUT, "publishTimeout", timeout);
            return this;
        }

        /** How long {@code start()} waits to connect, up to 10 minutes; default {@link #DEFAULT_CONNECT_TIMEOUT}. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Arguments.inRange(CONNECT_TIMEOUT, "connectTimeout", timeout);
            return this;
        }

        /** Wait between reconnection attempts, 10 ms to 1 hour; default {@link #DEFAULT_RECONNECT_WAIT}. */
        public Builder reconnectWait(Duration wait) {
            this.reconnectWait = Arguments.inRange(RECONNECT_WAIT, "reconnectWait", wait);
            return this;
        }

        /**
         * Publish to subjects no JetStream stream captures on core NATS, at most once, instead of refusing them;
         * default off.
         */
        public Builder coreSubjects(boolean allowed) {
            this.coreSubjects = allowed;
            return this;
        }

        /** @throws ConfigurationException listing every problem, the URI's password redacted */
        public NatsSinkConfig build() {
            return build(new Problems());
        }

        private NatsSinkConfig build(Problems problems) {
            ServerList list = ServerList.parse(uri, Set.of("nats", "tls"), DEFAULT_PORT, FORM, SETTINGS, problems);
            problems.throwIfAny();
            return new NatsSinkConfig(this, list);
        }
    }

    /**
     * The connection options: these servers, credentials (user and password, or a user alone as a token), TLS with
     * the JVM's default context for {@code tls://}, reconnection without end every {@code nats.reconnect-wait-ms}
     * once connected, and the sink's threads.
     *
     * @throws ConfigurationException when {@code tls://} is asked for and the JVM has no TLS
     */
    Options options(ThreadFactory threads) {
        Options.Builder b = new Options.Builder()
                .servers(servers.toArray(String[]::new))
                .connectionName("pgbridge")
                .connectionTimeout(connectTimeout)
                .maxReconnects(-1)
                .reconnectWait(reconnectWait)
                .connectThreadFactory(threads)
                .callbackThreadFactory(threads)
                .readerThreadFactory(threads)
                .writerThreadFactory(threads);
        if (username != null && password != null) {
            b.userInfo(username.toCharArray(), password.reveal().toCharArray());
        } else if (username != null) {
            b.token(username.toCharArray());
        }
        if (tls) {
            try {
                b.sslContext(SSLContext.getDefault());
            } catch (NoSuchAlgorithmException e) {
                throw new ConfigurationException("PGBRIDGE_UPSTREAM_URI asks for TLS, but the JVM has none: " + e);
            }
        }
        return b.build();
    }

    /** The servers, without credentials, for messages. */
    String endpoint() {
        return String.join(",", servers);
    }

    /** The user (or, with no password, that a token is used), never the secret, for messages. */
    String who() {
        return username == null ? "" : password == null ? " with a token" : " as user '" + username + "'";
    }

    Duration publishTimeout() {
        return publishTimeout;
    }

    Duration connectTimeout() {
        return connectTimeout;
    }

    boolean coreSubjects() {
        return coreSubjects;
    }

    @Override
    public String toString() {
        return "NatsSinkConfig{" + endpoint() + who() + ", publishTimeout=" + publishTimeout.toMillis() + "ms"
                + (coreSubjects ? ", core subjects allowed" : "") + '}';
    }
}
