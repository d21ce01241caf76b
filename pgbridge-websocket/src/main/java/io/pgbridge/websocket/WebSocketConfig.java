package io.pgbridge.websocket;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.Arguments;
import io.pgbridge.spi.support.Redaction;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Where the WebSocket server listens and whom it serves, read once from the upstream URI
 * {@code ws://host:port/base-path} and the {@code websocket.*} {@link Setting}s below, or built in code; either way
 * every problem is reported at once. Immutable; {@link #toString()} never shows tokens.
 *
 * <p>Safe defaults: the URI's host is the bind address ({@link #DEFAULT_HOST} when the sink is built without one);
 * browsers are served only from the server's own origin unless {@code websocket.allowed-origins} names others; when
 * bound to a loopback address, requests must name a loopback host (a guard against DNS rebinding); tokens, when set,
 * are required.
 *
 * <p>In code: {@code new WebSocketSink(WebSocketConfig.builder().uri("ws://0.0.0.0:7700/events").channels("people",
 * "orders_*").allowedOrigins("https://app.example.com").build())}.
 */
public final class WebSocketConfig {
    /** Bind address when none is given: {@code 127.0.0.1}. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Port when the URI has none: {@code 7700}, as pg_eventserv. */
    public static final int DEFAULT_PORT = 7700;
    /** Default of {@link #MAX_CONNECTIONS}. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1000;
    /** Default of {@link #CHANNELS}: {@code *}, every routed topic. */
    public static final String DEFAULT_CHANNELS = "*";
    /** Default of {@link #CLIENT_QUEUE_MAX}. */
    public static final int DEFAULT_CLIENT_QUEUE_MAX = 1000;

    /** Channel allow-list, comma-separated globs. */
    public static final Setting CHANNELS = Setting.string(
                    "websocket.channels",
                    "Channels (route topics) clients may listen to, comma-separated globs (* any characters, ? one); "
                            + "default * (every routed topic)")
            .withDefault(DEFAULT_CHANNELS);
    /** Origins allowed besides the server's own. */
    public static final Setting ALLOWED_ORIGINS = Setting.string(
            "websocket.allowed-origins",
            "Browser origins allowed besides the server's own, comma-separated, exact (https://app.example.com:8443);"
                    + " * allows any origin; default none");
    /** Bearer tokens with their channel scope. */
    public static final Setting TOKENS = Setting.secret(
            "websocket.tokens",
            "Bearer tokens and the channel globs each may listen to: token1=people|orders*;token2=*. When set, every "
                    + "client must present one (Authorization: Bearer, or ?access_token= for browsers)");
    /** Cap on open WebSocket and SSE connections. */
    public static final Setting MAX_CONNECTIONS = Setting.integer(
            "websocket.max-connections",
            "Most open WebSocket and SSE connections; more are refused with 503",
            DEFAULT_MAX_CONNECTIONS,
            1,
            1_000_000);
    /** Cap on messages waiting for one client. */
    public static final Setting CLIENT_QUEUE_MAX = Setting.integer(
            "websocket.client-queue-max",
            "Most messages waiting to be written to one client; a client that falls further behind is disconnected",
            DEFAULT_CLIENT_QUEUE_MAX,
            1,
            1_000_000);

    /** Every setting of the WebSocket sink. */
    public static final List<Setting> SETTINGS =
            List.of(CHANNELS, ALLOWED_ORIGINS, TOKENS, MAX_CONNECTIONS, CLIENT_QUEUE_MAX);

    private final String host;
    private final int port;
    private final String basePath;
    private final List<Pattern> channels;
    private final Set<String> allowedOrigins;
    private final Map<String, List<Pattern>> tokens;
    private final int maxConnections;
    private final int clientQueueMax;

    private WebSocketConfig(Builder b, URI parsed, List<Pattern> channels, Map<String, List<Pattern>> tokens) {
        String path = parsed.getPath() == null ? "" : parsed.getPath();
        String base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.host = parsed.getHost();
        this.port = parsed.getPort() < 0 ? DEFAULT_PORT : parsed.getPort();
        this.basePath = base.isEmpty() ? "/" : base;
        this.channels = channels;
        this.allowedOrigins = b.allowedOrigins.stream()
                .map(origin -> origin.trim().toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        this.tokens = tokens;
        this.maxConnections = b.maxConnections;
        this.clientQueueMax = b.clientQueueMax;
    }

    /** A builder with every default: {@code ws://127.0.0.1:7700/}, every channel, no token. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads and checks the upstream URI and the {@code websocket.*} settings.
     *
     * @throws ConfigurationException listing every problem: key, value (secrets redacted), rule
     */
    static WebSocketConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        Builder b = builder();
        b.uri = sink.uri();
        b.channels = split(s.string(CHANNELS), ",");
        b.allowedOrigins = new LinkedHashSet<>(split(s.string(ALLOWED_ORIGINS), ","));
        String tokens = s.string(TOKENS);
        for (String entry : split(tokens, ";")) {
            int eq = entry.lastIndexOf('=');
            if (eq < 0) {
                problems.add(TOKEN_FORM_PROBLEM);
            } else {
                b.tokens.put(entry.substring(0, eq).trim(), split(entry.substring(eq + 1), "|"));
            }
        }
        if (problems.isEmpty()) {
            b.maxConnections = (int) s.integer(MAX_CONNECTIONS);
            b.clientQueueMax = (int) s.integer(CLIENT_QUEUE_MAX);
        }
        return b.build(problems);
    }

    /** Collects the WebSocket sink's settings in code; not thread-safe. */
    public static final class Builder {
        private String uri;
        private List<String> channels = List.of(DEFAULT_CHANNELS);
        private Set<String> allowedOrigins = new LinkedHashSet<>();
        private final Map<String, List<String>> tokens = new LinkedHashMap<>();
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int clientQueueMax = DEFAULT_CLIENT_QUEUE_MAX;

        private Builder() {}

        /**
         * {@code ws://host[:port][/base-path]}: bind address, port ({@code 0} picks a free one) and the path every
         * endpoint lives under; default {@code ws://127.0.0.1:7700}. {@code wss} is refused: put a TLS-terminating
         * proxy in front.
         */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri").trim();
            return this;
        }

        /**
         * The channels (route topics) clients may listen to, globs of letters, digits, {@code _ . : -} with
         * {@code *} (any characters) and {@code ?} (one), checked by {@link #build()}; default {@code *}.
         */
        public Builder channels(String... globs) {
            this.channels = List.of(globs);
            return this;
        }

        /**
         * Browser origins allowed besides the server's own, {@code scheme://host[:port]} or {@code *} (checked by
         * {@link #build()}); default none.
         */
        public Builder allowedOrigins(String... origins) {
            this.allowedOrigins = new LinkedHashSet<>(List.of(origins));
            return this;
        }

        /**
         * Adds a bearer token of at least 16 characters (checked by {@link #build()}; never shown) and the channel
         * globs it may listen to. Once a token is set, every client must present one.
         */
        public Builder token(String token, String... channelGlobs) {
            tokens.put(Objects.requireNonNull(token, "token").trim(), List.of(channelGlobs));
            return this;
        }

        /** Most open WebSocket and SSE connections, 1 to 1,000,000; default {@link #DEFAULT_MAX_CONNECTIONS}. */
        public Builder maxConnections(int connections) {
            this.maxConnections = (int) Arguments.inRange(MAX_CONNECTIONS, "maxConnections", connections);
            return this;
        }

        /**
         * Most messages waiting for one client, 1 to 1,000,000; a client further behind is disconnected. Default
         * {@link #DEFAULT_CLIENT_QUEUE_MAX}.
         */
        public Builder clientQueueMax(int messages) {
            this.clientQueueMax = (int) Arguments.inRange(CLIENT_QUEUE_MAX, "clientQueueMax", messages);
            return this;
        }

        /** @throws ConfigurationException listing every problem, tokens redacted */
        public WebSocketConfig build() {
            return build(new Problems());
        }

        private WebSocketConfig build(Problems problems) {
            URI parsed = parseUri(uri == null ? "ws://" + DEFAULT_HOST + ":" + DEFAULT_PORT : uri, problems);
            List<Pattern> channelPatterns = globs(CHANNELS, channels, problems);
            for (String o : allowedOrigins) {
                String origin = o.trim().toLowerCase(Locale.ROOT);
                if (!origin.equals("*") && !origin.matches("https?://[^/?#\\s]+")) {
                    problems.add(ALLOWED_ORIGINS, o, "'" + origin + "' is not scheme://host[:port] or *");
                }
            }
            Map<String, List<Pattern>> tokenPatterns = new LinkedHashMap<>();
            tokens.forEach((token, globs) -> {
                if (token.length() < 16) {
                    problems.add(TOKEN_FORM_PROBLEM);
                    return;
                }
                Problems sub = new Problems();
                tokenPatterns.put(token, globs(TOKENS, globs, sub));
                if (!sub.isEmpty()) {
                    problems.add(TOKENS, token, "an entry has an invalid channel glob");
                }
            });
            problems.throwIfAny();
            return new WebSocketConfig(this, parsed, channelPatterns, Map.copyOf(tokenPatterns));
        }
    }

    private static final String TOKEN_FORM_PROBLEM =
            Settings.problem(TOKENS, "", "each entry must be token=glob|glob with a token of at least 16 characters");

    /** The trimmed, non-empty parts of {@code text}; none for {@code null}. */
    private static List<String> split(String text, String separator) {
        if (text == null) {
            return List.of();
        }
        return Arrays.stream(text.split(Pattern.quote(separator)))
                .map(String::trim)
                .filter(part -> !part.isEmpty())
                .toList();
    }

    private static URI parseUri(String uri, Problems problems) {
        String env = UpstreamSettings.URI.envName();
        URI parsed;
        try {
            parsed = new URI(uri.trim());
        } catch (URISyntaxException e) {
            problems.add(env + "='" + Redaction.redact(uri) + "': is not a valid URI (" + e.getReason() + ")");
            return URI.create("ws://" + DEFAULT_HOST);
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("wss")) {
            problems.add(env + "='" + Redaction.redact(uri) + "': wss (TLS) is not supported by the WebSocket sink;"
                    + " serve ws:// on 127.0.0.1 and put a TLS-terminating reverse proxy (nginx, Caddy) in front");
        } else if (!scheme.equals("ws")) {
            problems.add(env + "='" + Redaction.redact(uri) + "': the WebSocket sink needs ws://host:port");
        } else if (parsed.getHost() == null) {
            problems.add(env + "='" + Redaction.redact(uri) + "': has no host to bind to; write ws://127.0.0.1:7700"
                    + " (or ws://0.0.0.0:7700 to serve every interface)");
        } else if (parsed.getRawUserInfo() != null || parsed.getRawQuery() != null || parsed.getFragment() != null) {
            problems.add(env + "='" + Redaction.redact(uri) + "': must be ws://host:port[/base-path], without user,"
                    + " query or fragment (tokens go in " + TOKENS.envName() + ")");
        } else {
            return parsed;
        }
        return URI.create("ws://" + DEFAULT_HOST);
    }

    private static List<Pattern> globs(Setting setting, List<String> globs, Problems problems) {
        List<Pattern> patterns = new ArrayList<>();
        boolean invalid = false;
        for (String g : globs) {
            String glob = g.trim();
            if (!glob.matches("[A-Za-z0-9_.:\\-*?]+")) {
                problems.add(setting, glob, "glob '" + glob + "' may hold only letters, digits, _ . : - * ?");
                invalid = true;
                continue;
            }
            patterns.add(
                    Pattern.compile(glob.replace(".", "\\.").replace("?", ".").replace("*", ".*")));
        }
        if (patterns.isEmpty() && !invalid) {
            problems.add(setting, String.join(",", globs), "names no channel");
        }
        return List.copyOf(patterns);
    }

    /** The address the server binds. */
    public String host() {
        return host;
    }

    /** The configured port; {@code 0} means a free one, see {@link WebSocketSink#port()}. */
    public int port() {
        return port;
    }

    /** The path every endpoint lives under, {@code /} or {@code /something} (no trailing slash). */
    public String basePath() {
        return basePath;
    }

    public int maxConnections() {
        return maxConnections;
    }

    public int clientQueueMax() {
        return clientQueueMax;
    }

    /** Whether clients must present a bearer token. */
    public boolean requiresToken() {
        return !tokens.isEmpty();
    }

    /** Whether {@code channel} is on the allow-list. */
    public boolean channelAllowed(String channel) {
        return matchesAny(channels, channel);
    }

    /** Whether a browser page from {@code origin} (lower case, {@code scheme://host[:port]}) is allowed. */
    boolean originListed(String origin) {
        return allowedOrigins.contains("*") || allowedOrigins.contains(origin);
    }

    /** Whether {@code token} is known and its scope covers {@code channel}; compared in constant time per token. */
    boolean tokenAllows(String token, String channel) {
        byte[] presented = token.getBytes(StandardCharsets.UTF_8);
        boolean allowed = false;
        for (Map.Entry<String, List<Pattern>> e : tokens.entrySet()) {
            if (MessageDigest.isEqual(presented, e.getKey().getBytes(StandardCharsets.UTF_8))) {
                allowed = matchesAny(e.getValue(), channel);
            }
        }
        return allowed;
    }

    /** Whether {@code token} is one of the configured tokens. */
    boolean tokenKnown(String token) {
        byte[] presented = token.getBytes(StandardCharsets.UTF_8);
        boolean known = false;
        for (String t : tokens.keySet()) {
            known |= MessageDigest.isEqual(presented, t.getBytes(StandardCharsets.UTF_8));
        }
        return known;
    }

    private static boolean matchesAny(List<Pattern> patterns, String channel) {
        for (Pattern p : patterns) {
            if (p.matcher(channel).matches()) {
                return true;
            }
        }
        return false;
    }

    /** Never shows tokens. */
    @Override
    public String toString() {
        return "WebSocketConfig{ws://" + host + ":" + port + basePath + ", channels=" + channels + ", allowedOrigins="
                + allowedOrigins + ", tokens=" + tokens.size() + ", maxConnections=" + maxConnections
                + ", clientQueueMax=" + clientQueueMax + '}';
    }
}
