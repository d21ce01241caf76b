package io.pgbridge.websocket;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.support.Redaction;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where the WebSocket server listens and whom it serves. Read from the upstream URI {@code ws://host:port/base-path}
 * and the {@code websocket.*} settings by {@link #of(String, Settings)}, which reports every problem at once.
 * Immutable; {@link #toString()} never shows tokens.
 *
 * <p>Safe defaults: the URI's host is the bind address ({@link #DEFAULT_HOST} when the sink is built without one);
 * browsers are served only from the server's own origin unless {@code websocket.allowed-origins} names others; when
 * bound to a loopback address, requests must name a loopback host (a guard against DNS rebinding); tokens, when set,
 * are required.
 */
public final class WebSocketConfig {
    /** Bind address when none is given: {@code 127.0.0.1}. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Port when the URI has none: {@code 7700}, as pg_eventserv. */
    public static final int DEFAULT_PORT = 7700;
    /** Default of {@link #MAX_CONNECTIONS}. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1000;
    /** Default of {@link #CLIENT_QUEUE_MAX}. */
    public static final int DEFAULT_CLIENT_QUEUE_MAX = 1000;

    /** Channel allow-list, comma-separated globs. */
    public static final Setting CHANNELS = Setting.string(
                    "websocket.channels",
                    "Channels (route topics) clients may listen to, comma-separated globs (* any characters, ? one); "
                            + "default * (every routed topic)")
            .withDefault("*");
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

    private WebSocketConfig(
            String host,
            int port,
            String basePath,
            List<Pattern> channels,
            Set<String> allowedOrigins,
            Map<String, List<Pattern>> tokens,
            int maxConnections,
            int clientQueueMax) {
        this.host = host;
        this.port = port;
        this.basePath = basePath;
        this.channels = channels;
        this.allowedOrigins = allowedOrigins;
        this.tokens = tokens;
        this.maxConnections = maxConnections;
        this.clientQueueMax = clientQueueMax;
    }

    /**
     * Reads and checks the configuration.
     *
     * @param uri {@code ws://host[:port][/base-path]}: bind address, port ({@code 0} picks a free one) and the path
     *     every endpoint lives under; {@code null} means {@code ws://127.0.0.1:7700}. {@code wss} is refused: put a
     *     TLS-terminating proxy in front.
     * @param settings the {@code websocket.*} settings; others are ignored
     * @throws ConfigurationException listing every problem: key, value (secrets redacted), rule
     */
    public static WebSocketConfig of(String uri, Settings settings) {
        Problems problems = new Problems().check(settings, SETTINGS);
        URI parsed = uri(uri == null ? "ws://" + DEFAULT_HOST + ":" + DEFAULT_PORT : uri, problems);
        List<Pattern> channels = globs(CHANNELS, settings.string(CHANNELS), ",", problems);
        Set<String> origins = new LinkedHashSet<>();
        String originText = settings.string(ALLOWED_ORIGINS);
        if (originText != null) {
            for (String o : originText.split(",")) {
                String origin = o.trim().toLowerCase(Locale.ROOT);
                if (origin.isEmpty()) {
                    continue;
                }
                if (!origin.equals("*") && !origin.matches("https?://[^/?#\\s]+")) {
                    problems.add(Settings.problem(
                            ALLOWED_ORIGINS, originText, "'" + origin + "' is not scheme://host[:port] or *"));
                }
                origins.add(origin);
            }
        }
        Map<String, List<Pattern>> tokens = tokens(settings.string(TOKENS), problems);
        problems.throwIfAny();
        String path = parsed.getPath() == null ? "" : parsed.getPath();
        String base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return new WebSocketConfig(
                parsed.getHost(),
                parsed.getPort() < 0 ? DEFAULT_PORT : parsed.getPort(),
                base.isEmpty() ? "/" : base,
                channels,
                Set.copyOf(origins),
                tokens,
                (int) settings.integer(MAX_CONNECTIONS),
                (int) settings.integer(CLIENT_QUEUE_MAX));
    }

    private static URI uri(String uri, Problems problems) {
        String env = Setting.envName("upstream.uri");
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
        }
        return problems.isEmpty() ? parsed : URI.create("ws://" + DEFAULT_HOST);
    }

    private static List<Pattern> globs(Setting setting, String text, String separator, Problems problems) {
        List<Pattern> patterns = new ArrayList<>();
        for (String g : text.split(Pattern.quote(separator))) {
            String glob = g.trim();
            if (glob.isEmpty()) {
                continue;
            }
            if (!glob.matches("[A-Za-z0-9_.:\\-*?]+")) {
                problems.add(Settings.problem(
                        setting, text, "glob '" + glob + "' may hold only letters, digits, _ . : - * ?"));
                continue;
            }
            patterns.add(
                    Pattern.compile(glob.replace(".", "\\.").replace("?", ".").replace("*", ".*")));
        }
        if (patterns.isEmpty() && problems.isEmpty()) {
            problems.add(Settings.problem(setting, text, "names no channel"));
        }
        return List.copyOf(patterns);
    }

    private static Map<String, List<Pattern>> tokens(String text, Problems problems) {
        if (text == null) {
            return Map.of();
        }
        Map<String, List<Pattern>> tokens = new java.util.LinkedHashMap<>();
        for (String entry : text.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.lastIndexOf('=');
            String token = eq < 0 ? "" : entry.substring(0, eq).trim();
            if (token.length() < 16) {
                problems.add(Settings.problem(
                        TOKENS, text, "each entry must be token=glob|glob with a token of at least 16 characters"));
                continue;
            }
            Problems sub = new Problems();
            tokens.put(token, globs(TOKENS, entry.substring(eq + 1), "|", sub));
            if (!sub.isEmpty()) {
                problems.add(Settings.problem(TOKENS, text, "an entry has an invalid channel glob"));
            }
        }
        return Map.copyOf(tokens);
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
