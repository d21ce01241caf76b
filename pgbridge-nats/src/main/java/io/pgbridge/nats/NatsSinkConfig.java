package io.pgbridge.nats;

import io.nats.client.Options;
import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.Secret;
import io.pgbridge.spi.support.ServerList;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
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
 */
public final class NatsSinkConfig {
    static final int DEFAULT_PORT = 4222;

    public static final Setting PUBLISH_TIMEOUT = Setting.durationMs(
            "nats.publish-timeout-ms",
            "How long a batch waits for JetStream's publish acks (core subjects: for the server's PONG after it)",
            30_000,
            1,
            3_600_000);
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "nats.connect-timeout-ms", "How long start() waits to connect to a server", 10_000, 1, 600_000);
    public static final Setting RECONNECT_WAIT = Setting.durationMs(
            "nats.reconnect-wait-ms",
            "Wait between reconnection attempts after the connection is lost",
            1_000,
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

    private NatsSinkConfig(List<String> servers, boolean tls, String username, Secret password, Settings s) {
        this.servers = List.copyOf(servers);
        this.tls = tls;
        this.username = username;
        this.password = password;
        this.publishTimeout = s.duration(PUBLISH_TIMEOUT);
        this.connectTimeout = s.duration(CONNECT_TIMEOUT);
        this.reconnectWait = s.duration(RECONNECT_WAIT);
        this.coreSubjects = s.bool(CORE_SUBJECTS);
    }

    /** @throws ConfigurationException listing every problem, values redacted */
    static NatsSinkConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        ServerList list = ServerList.parse(
                sink,
                Set.of("nats", "tls"),
                DEFAULT_PORT,
                "nats://[user:password@]host:4222[,host2:4222] or tls://...",
                SETTINGS,
                problems);
        if (list == null) {
            throw problems.exception();
        }
        String user = list.user();
        Secret pass = list.password();
        List<String> servers = list.hostPorts().stream()
                .map(hostPort -> list.scheme() + "://" + hostPort)
                .toList();
        problems.throwIfAny();
        if (user == null && pass == null) {
            user = s.string(UpstreamSettings.USERNAME);
            pass = s.secret(UpstreamSettings.PASSWORD);
        }
        return new NatsSinkConfig(servers, list.scheme().equals("tls"), user, pass, s);
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

    boolean coreSubjects() {
        return coreSubjects;
    }

    @Override
    public String toString() {
        return "NatsSinkConfig{" + endpoint() + who() + ", publishTimeout=" + publishTimeout.toMillis() + "ms"
                + (coreSubjects ? ", core subjects allowed" : "") + '}';
    }
}
