package io.pgbridge.nats;

import io.nats.client.Options;
import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Secret;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.UserInfo;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
        List<String> problems = new ArrayList<>(s.problems(SETTINGS));
        String form = "nats://[user:password@]host:4222[,host2:4222] or tls://...";
        URI uri = sink.parsedUri(form, problems);
        if (uri == null) {
            throw new ConfigurationException(problems);
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("nats") && !scheme.equals("tls")) {
            problems.add(uriProblem(sink, "must start with nats:// or tls://"));
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            problems.add(uriProblem(sink, "names no server; write it as " + form));
            throw new ConfigurationException(problems);
        }
        if ((uri.getRawPath() != null
                        && !uri.getRawPath().isEmpty()
                        && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            problems.add(uriProblem(
                    sink,
                    "takes no path, query or fragment; use the settings "
                            + SETTINGS.stream().map(Setting::envName).toList()));
        }
        // A list of servers is not a server-based authority for java.net.URI: take it apart here.
        int at = authority.lastIndexOf('@');
        String user = null;
        Secret pass = null;
        if (at >= 0) {
            String info = authority.substring(0, at);
            int colon = info.indexOf(':');
            user = UserInfo.decode(colon < 0 ? info : info.substring(0, colon));
            pass = colon < 0 ? null : Secret.of(UserInfo.decode(info.substring(colon + 1)));
            user = user.isEmpty() ? null : user;
        }
        List<String> servers = new ArrayList<>();
        for (String server : authority.substring(at + 1).split(",", -1)) {
            String hostPort = hostPort(server.trim());
            if (hostPort == null) {
                problems.add(uriProblem(sink, "has a server that is not host[:port]: '" + server + "'"));
            } else {
                servers.add(scheme + "://" + hostPort);
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        if (user == null && pass == null) {
            user = s.string(UpstreamSettings.USERNAME);
            pass = s.secret(UpstreamSettings.PASSWORD);
        }
        return new NatsSinkConfig(servers, scheme.equals("tls"), user, pass, s);
    }

    /** {@code host:port} with the default port filled in, or {@code null} when {@code text} is not one. */
    private static String hostPort(String text) {
        URI server;
        try {
            server = new URI("nats://" + text);
        } catch (URISyntaxException e) {
            return null;
        }
        if (server.getHost() == null
                || server.getRawUserInfo() != null
                || !server.getRawPath().isEmpty()) {
            return null;
        }
        return server.getHost() + ":" + (server.getPort() > 0 ? server.getPort() : DEFAULT_PORT);
    }

    private static String uriProblem(SinkConfig sink, String rule) {
        return Settings.problem(UpstreamSettings.URI, sink.uri(), rule);
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
