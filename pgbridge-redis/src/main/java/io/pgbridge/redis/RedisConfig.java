package io.pgbridge.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
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

/**
 * The Redis sink's settings, read once from the upstream URI and the {@link Setting}s below. Immutable;
 * {@link #toString()} never shows the password.
 *
 * <p>URI: {@code redis://[[user]:password@]host[:port][/database]} (port 6379), or {@code rediss://...} for TLS with
 * certificate and hostname verification ({@link SslVerifyMode#FULL}, the JVM's trust store). User and password may
 * instead come from {@code PGBRIDGE_UPSTREAM_USERNAME}/{@code _PASSWORD}; the URI wins when both are given. Without
 * a user, the password authenticates the {@code default} user ({@code requirepass}).
 *
 * <p>In code: {@code new RedisSink(RedisConfig.builder().uri("rediss://cache:6380/2").build())}.
 */
public final class RedisConfig {
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(30);

    public static final Setting DATABASE = Setting.integer(
            "redis.database", "Database index, when the URI has no /database path", 0, 0, Integer.MAX_VALUE);
    public static final Setting STREAM_MAX_LENGTH = Setting.integer(
            "redis.stream-max-length",
            "Trim each stream to about this many entries on every XADD (MAXLEN ~); 0 keeps every entry. Trimming "
                    + "can drop entries no consumer has read yet",
            0,
            0,
            Long.MAX_VALUE);
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "redis.connect-timeout-ms",
            "How long start() waits to connect and authenticate",
            DEFAULT_CONNECT_TIMEOUT.toMillis(),
            1,
            3_600_000);
    public static final Setting COMMAND_TIMEOUT = Setting.durationMs(
            "redis.command-timeout-ms",
            "How long a publish waits for Redis's replies before reporting a retryable failure",
            DEFAULT_COMMAND_TIMEOUT.toMillis(),
            1,
            3_600_000);

    /** Every setting this sink reads, besides the core's upstream URI, user and password. */
    public static final List<Setting> SETTINGS = List.of(DATABASE, STREAM_MAX_LENGTH, CONNECT_TIMEOUT, COMMAND_TIMEOUT);

    final String redactedUri;
    final String host;
    final int port;
    final boolean tls;
    final String username;
    final Secret password;
    final int database;
    final long streamMaxLength;
    final Duration connectTimeout;
    final Duration commandTimeout;

    private RedisConfig(Builder b, URI uri, Problems problems) {
        this.redactedUri = Redaction.redact(b.uri);
        this.tls = uri.getScheme().toLowerCase(Locale.ROOT).equals("rediss");
        this.host = uri.getHost();
        this.port = uri.getPort() > 0 ? uri.getPort() : 6379;
        if (host == null) {
            problems.add(UpstreamSettings.URI, b.uri, "names no host");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        Integer pathDatabase = null;
        if (!path.isEmpty() && !path.equals("/")) {
            try {
                pathDatabase = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                problems.add(UpstreamSettings.URI, b.uri, "path must be a database index, such as /0");
            }
        }
        if (uri.getRawQuery() != null) {
            problems.add(
                    UpstreamSettings.URI,
                    b.uri,
                    "takes no query; write it as redis://[[user]:password@]host[:port][/database]");
        }
        this.database = pathDatabase != null ? pathDatabase : b.database;
        UserInfo userInfo = UserInfo.of(uri);
        String user = userInfo.user();
        Secret pass = userInfo.password();
        if (pass == null && user != null) {
            // redis://secret@host is how many tools write a password alone
            pass = Secret.of(user);
            user = null;
        }
        this.username = user != null ? user : b.username;
        this.password = pass != null ? pass : b.password;
        if (username != null && password == null) {
            problems.add(UpstreamSettings.USERNAME.envName() + "='" + username
                    + "': a Redis user needs a password (AUTH user password)");
        }
        this.streamMaxLength = b.streamMaxLength;
        this.connectTimeout = b.connectTimeout;
        this.commandTimeout = b.commandTimeout;
    }

    /** A builder with every default; {@link Builder#uri} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** @throws ConfigurationException listing every problem */
    static RedisConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        Builder b = builder();
        b.uri = sink.uri();
        b.username = s.string(UpstreamSettings.USERNAME);
        b.password = s.secret(UpstreamSettings.PASSWORD);
        if (problems.isEmpty()) {
            b.database = (int) s.integer(DATABASE);
            b.streamMaxLength = s.integer(STREAM_MAX_LENGTH);
            b.connectTimeout = s.duration(CONNECT_TIMEOUT);
            b.commandTimeout = s.duration(COMMAND_TIMEOUT);
        }
        return b.build(problems);
    }

    /** Collects the Redis sink's settings in code; not thread-safe. */
    public static final class Builder {
        private String uri;
        private String username;
        private Secret password;
        private int database;
        private long streamMaxLength;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;

        private Builder() {}

        /** {@code redis://[[user]:password@]host[:port][/database]} or {@code rediss://...}; required. */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri").trim();
            return this;
        }

        /** User and password when the URI has none; the password is never shown. */
        public Builder credentials(String username, String password) {
            this.username = username;
            this.password = Secret.of(Objects.requireNonNull(password, "password"));
            return this;
        }

        /** Database index when the URI has no {@code /database} path; default 0. */
        public Builder database(int database) {
            if (database < 0) {
                throw new IllegalArgumentException("database must be 0 or more, was " + database);
            }
            this.database = database;
            return this;
        }

        /** Trim each stream to about this many entries (MAXLEN ~); 0 (default) keeps every entry. */
        public Builder streamMaxLength(long entries) {
            if (entries < 0) {
                throw new IllegalArgumentException("streamMaxLength must be 0 or more, was " + entries);
            }
            this.streamMaxLength = entries;
            return this;
        }

        /** How long {@code start()} waits to connect and authenticate; default {@link #DEFAULT_CONNECT_TIMEOUT}. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Arguments.inRange(CONNECT_TIMEOUT, "connectTimeout", timeout);
            return this;
        }

        /** How long a publish waits for replies; default {@link #DEFAULT_COMMAND_TIMEOUT}. */
        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = Arguments.inRange(COMMAND_TIMEOUT, "commandTimeout", timeout);
            return this;
        }

        /** @throws ConfigurationException listing every problem, the URI's password redacted */
        public RedisConfig build() {
            return build(new Problems());
        }

        private RedisConfig build(Problems problems) {
            URI parsed = SinkConfig.parseUri(uri, "redis://host:6379 or rediss://host:6380", problems);
            problems.throwIfAny();
            RedisConfig config = new RedisConfig(this, parsed, problems);
            problems.throwIfAny();
            return config;
        }
    }

    /** What lettuce connects to: TLS with full verification for rediss. */
    RedisURI redisUri() {
        RedisURI.Builder b = RedisURI.Builder.redis(host, port)
                .withDatabase(database)
                .withTimeout(commandTimeout)
                .withClientName("pgbridge");
        if (tls) {
            b = b.withSsl(true).withVerifyPeer(SslVerifyMode.FULL);
        }
        if (password != null) {
            b = username != null
                    ? b.withAuthentication(username, password.reveal().toCharArray())
                    : b.withPassword(password.reveal().toCharArray());
        }
        return b.build();
    }

    /** The endpoint without credentials, for messages. */
    String endpoint() {
        return (tls ? "rediss://" : "redis://") + host + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "RedisConfig{" + endpoint() + (username == null ? "" : ", user=" + username) + ", streamMaxLength="
                + streamMaxLength + '}';
    }
}
