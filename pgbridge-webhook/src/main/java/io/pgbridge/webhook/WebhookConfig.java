package io.pgbridge.webhook;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.Arguments;
import io.pgbridge.spi.support.Redaction;
import io.pgbridge.spi.support.UserInfo;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the webhook sink needs: the endpoint, extra headers, the signing key, timeouts, redirect policy and which
 * statuses are permanent, read once from the upstream URI and the {@code webhook.*} {@link Setting}s below, or built
 * in code; either way every problem is reported at once. Immutable; {@link #toString()} shows neither the signing key
 * nor header values.
 *
 * <p>A URI with user information ({@code https://user:password@host/hook}) sends HTTP Basic authentication; the
 * user information is not part of the request line.
 *
 * <p>In code: {@code new WebhookSink(WebhookConfig.builder().uri("https://hooks.example.com/pg").secret(whsec)
 * .header("Authorization", "Bearer " + token).build())}.
 */
public final class WebhookConfig {
    /** Default of {@link #TIMEOUT}: 10 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Default of {@link #CONNECT_TIMEOUT}: 5 s. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** Default of {@link #RETRY_AFTER_MAX}: 60 s. */
    public static final Duration DEFAULT_RETRY_AFTER_MAX = Duration.ofSeconds(60);

    /** Standard Webhooks signing secret, {@code whsec_<base64>}. */
    public static final Setting SECRET = Setting.secret(
            "webhook.secret",
            "Standard Webhooks signing secret, whsec_<base64> of 24 to 64 random bytes; unset: requests are not "
                    + "signed");
    /** Extra headers, {@code Name=value;Name2=value2}; secret because they often carry tokens. */
    public static final Setting HEADERS = Setting.secret(
            "webhook.headers", "Extra request headers, Name=value;Name2=value2 (treated as secret: may hold tokens)");
    /** How long to wait for the response of one request. */
    public static final Setting TIMEOUT = Setting.durationMs(
            "webhook.timeout-ms",
            "Longest wait for the response to one request; then it is retried",
            DEFAULT_TIMEOUT.toMillis(),
            1,
            3_600_000);
    /** How long to wait for a TCP (and TLS) connection. */
    public static final Setting CONNECT_TIMEOUT = Setting.durationMs(
            "webhook.connect-timeout-ms",
            "Longest wait for a connection to the endpoint",
            DEFAULT_CONNECT_TIMEOUT.toMillis(),
            1,
            600_000);
    /**
     * Default of {@link #PERMANENT_STATUSES}: the statuses by which an endpoint says that this very request will never
     * succeed, whoever deploys what: 400 (malformed), 405 (method not allowed), 410 (gone, RFC 9110 section 15.5.11:
     * "likely permanent"), 413 (content too large), 414 (URI too long), 415 (unsupported media type), 422
     * (unprocessable content). 401, 403 and 404 are not among them: an endpoint being deployed or re-keyed answers
     * them for a while, and its events must not be dropped meanwhile.
     */
    public static final String DEFAULT_PERMANENT_STATUSES = "400,405,410,413,414,415,422";

    /** Whether 307 and 308 redirects are followed (never from https to http); 301, 302 and 303 never are. */
    public static final Setting FOLLOW_REDIRECTS = Setting.bool(
            "webhook.follow-redirects",
            "Follow 307 and 308 redirects, re-sending the same POST and body (never https to http, at most "
                    + WebhookConfig.MAX_REDIRECTS
                    + " hops); 301, 302 and 303 are never followed (they would turn the POST into a GET): they fail"
                    + " and are retried, naming the Location to configure instead. false: a 307/308 fails the same way",
            false);
    /** HTTP statuses that refuse an event for good; every other non-2xx status is retried. */
    public static final Setting PERMANENT_STATUSES = Setting.string(
                    "webhook.permanent-statuses",
                    "HTTP statuses (comma-separated, 300 to 599) that refuse an event for good: it goes to the "
                            + "dead-letter destination, or halts its route; every other non-2xx status, a timeout and"
                            + " a connection error are retried with backoff")
            .withDefault(DEFAULT_PERMANENT_STATUSES);
    /** The longest {@code Retry-After} honoured. */
    public static final Setting RETRY_AFTER_MAX = Setting.durationMs(
            "webhook.retry-after-max-ms",
            "Longest Retry-After (on 429 and 5xx) honoured: no request is sent to the endpoint before then",
            DEFAULT_RETRY_AFTER_MAX.toMillis(),
            0,
            86_400_000);

    /** Every setting of the webhook sink. */
    public static final List<Setting> SETTINGS =
            List.of(SECRET, HEADERS, TIMEOUT, CONNECT_TIMEOUT, FOLLOW_REDIRECTS, PERMANENT_STATUSES, RETRY_AFTER_MAX);

    /** Most 307/308 redirects followed for one request. */
    static final int MAX_REDIRECTS = 5;

    private static final String SECRET_PREFIX = "whsec_";
    /** Names the sink sets itself; a configured header may not replace them. */
    private static final List<String> OWN_HEADERS =
            List.of("content-type", "webhook-id", "webhook-timestamp", "webhook-signature");

    private final URI endpoint;
    private final Map<String, String> headers;
    private final byte[] signingKey;
    private final Duration timeout;
    private final Duration connectTimeout;
    private final boolean followRedirects;
    private final Set<Integer> permanentStatuses;
    private final Duration retryAfterMax;

    private WebhookConfig(Builder b, URI endpoint, byte[] signingKey) {
        Map<String, String> headers = new LinkedHashMap<>(b.headers);
        if (endpoint.getRawUserInfo() != null) {
            UserInfo userInfo = UserInfo.of(endpoint);
            String basic = (userInfo.user() == null ? "" : userInfo.user()) + ":"
                    + (userInfo.password() == null ? "" : userInfo.password().reveal());
            headers.put(
                    "Authorization",
                    "Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
            endpoint = withoutUserInfo(endpoint);
        }
        this.endpoint = endpoint;
        this.headers = Collections.unmodifiableMap(headers);
        this.signingKey = signingKey;
        this.timeout = b.timeout;
        this.connectTimeout = b.connectTimeout;
        this.followRedirects = b.followRedirects;
        this.permanentStatuses = Collections.unmodifiableSet(new TreeSet<>(b.permanentStatuses));
        this.retryAfterMax = b.retryAfterMax;
    }

    /** A builder with every default; {@link Builder#uri} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads and checks the upstream URI and the {@code webhook.*} settings.
     *
     * @throws ConfigurationException listing every problem: key, value (secrets redacted), rule
     */
    static WebhookConfig from(SinkConfig sink) {
        Settings s = sink.settings();
        Problems problems = new Problems().check(s, SETTINGS);
        Builder b = builder();
        b.uri = sink.uri();
        b.secret = s.string(SECRET);
        parseHeaders(s.string(HEADERS), b, problems);
        b.permanentStatuses = parseStatuses(s.string(PERMANENT_STATUSES), problems);
        if (problems.isEmpty()) {
            b.timeout = s.duration(TIMEOUT);
            b.connectTimeout = s.duration(CONNECT_TIMEOUT);
            b.followRedirects = s.bool(FOLLOW_REDIRECTS);
            b.retryAfterMax = s.duration(RETRY_AFTER_MAX);
        }
        return b.build(problems);
    }

    /** Collects the webhook sink's settings in code; not thread-safe. */
    public static final class Builder {
        private String uri;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private String secret;
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private boolean followRedirects;
        private Set<Integer> permanentStatuses = parseStatuses(DEFAULT_PERMANENT_STATUSES, new Problems());
        private Duration retryAfterMax = DEFAULT_RETRY_AFTER_MAX;

        private Builder() {}

        /**
         * The endpoint, {@code http(s)://[user:password@]host[:port]/path[?query]}; required. User information is
         * sent as HTTP Basic authentication.
         */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri").trim();
            return this;
        }

        /**
         * Adds a request header (its value may be a token: never shown). {@link #build()} refuses the sink's own
         * headers ({@code content-type}, {@code webhook-*}) and names the JDK's HTTP client will not set.
         */
        public Builder header(String name, String value) {
            headers.put(Objects.requireNonNull(name, "name").trim(), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * The Standard Webhooks signing secret, {@code whsec_<base64>} of 24 to 64 bytes (checked by
         * {@link #build()}); default none: requests are not signed.
         */
        public Builder secret(String secret) {
            this.secret = Objects.requireNonNull(secret, "secret");
            return this;
        }

        /** Longest wait for the response to one request, up to 1 hour; default {@link #DEFAULT_TIMEOUT}. */
        public Builder timeout(Duration timeout) {
            this.timeout = Arguments.inRange(TIMEOUT, "timeout", timeout);
            return this;
        }

        /** Longest wait for a connection, up to 10 minutes; default {@link #DEFAULT_CONNECT_TIMEOUT}. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Arguments.inRange(CONNECT_TIMEOUT, "connectTimeout", timeout);
            return this;
        }

        /** Follow 307 and 308 redirects (never https to http); default off. */
        public Builder followRedirects(boolean follow) {
            this.followRedirects = follow;
            return this;
        }

        /**
         * The HTTP statuses, 300 to 599 (checked by {@link #build()}), that refuse an event for good; default
         * {@link #DEFAULT_PERMANENT_STATUSES}.
         */
        public Builder permanentStatuses(Set<Integer> statuses) {
            this.permanentStatuses = Set.copyOf(statuses);
            return this;
        }

        /** Longest {@code Retry-After} honoured, 0 to 1 day; default {@link #DEFAULT_RETRY_AFTER_MAX}. */
        public Builder retryAfterMax(Duration max) {
            this.retryAfterMax = Arguments.inRange(RETRY_AFTER_MAX, "retryAfterMax", max);
            return this;
        }

        /** @throws ConfigurationException listing every problem, secrets and header values redacted */
        public WebhookConfig build() {
            return build(new Problems());
        }

        private WebhookConfig build(Problems problems) {
            URI endpoint = endpoint(uri, problems);
            headers.forEach((name, value) -> checkHeader(name, value, problems));
            byte[] key = signingKey(secret, problems);
            for (int status : permanentStatuses) {
                if (status < 300 || status > 599) {
                    problems.add(
                            PERMANENT_STATUSES, String.valueOf(status), status + " is not a status from 300 to 599");
                }
            }
            problems.throwIfAny();
            return new WebhookConfig(this, endpoint, key);
        }
    }

    private static URI endpoint(String uri, Problems problems) {
        String env = UpstreamSettings.URI.envName();
        if (uri == null || uri.isBlank()) {
            problems.add(env + " is missing: the webhook sink needs the URL to POST to, http(s)://host/path");
            return null;
        }
        URI parsed;
        try {
            parsed = new URI(uri.trim());
        } catch (URISyntaxException e) {
            problems.add(env + "='" + Redaction.redact(uri) + "': is not a valid URI (" + e.getReason() + ")");
            return null;
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            problems.add(env + "='" + Redaction.redact(uri) + "': the webhook sink needs an http:// or https:// URL");
            return null;
        }
        if (parsed.getHost() == null) {
            problems.add(env + "='" + Redaction.redact(uri) + "': has no host");
            return null;
        }
        if (parsed.getFragment() != null) {
            problems.add(env + "='" + Redaction.redact(uri) + "': must not have a #fragment");
            return null;
        }
        return parsed;
    }

    private static URI withoutUserInfo(URI uri) {
        String rest = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        return URI.create(
                uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort()) + rest);
    }

    /** {@code Name=value;Name2=value2} into the builder's headers; an entry without a name is a problem. */
    private static void parseHeaders(String text, Builder b, Problems problems) {
        if (text == null) {
            return;
        }
        for (String entry : text.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            String name = eq < 0 ? entry.trim() : entry.substring(0, eq).trim();
            if (eq <= 0 || name.isEmpty()) {
                problems.add(HEADERS, text, "entry '" + name + "' is not Name=value");
                continue;
            }
            b.header(name, entry.substring(eq + 1).trim());
        }
    }

    private static void checkHeader(String name, String value, Problems problems) {
        if (OWN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
            problems.add(HEADERS, value, "header " + name + " is set by the sink itself");
            return;
        }
        try {
            HttpRequest.newBuilder().header(name, value);
        } catch (IllegalArgumentException e) {
            problems.add(HEADERS, value, "header " + name + " cannot be set (restricted name or invalid value)");
        }
    }

    /** {@code 400,410} into a set; an entry that is not a number is a problem, the range is checked by build(). */
    private static Set<Integer> parseStatuses(String text, Problems problems) {
        Set<Integer> statuses = new TreeSet<>();
        for (String entry : text.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            try {
                statuses.add(Integer.parseInt(entry.trim()));
            } catch (NumberFormatException e) {
                problems.add(
                        PERMANENT_STATUSES, text, "'" + entry.trim() + "' is not a number: list statuses like 400,410");
            }
        }
        return statuses;
    }

    private static byte[] signingKey(String secret, Problems problems) {
        if (secret == null) {
            return null;
        }
        String encoded = secret.trim();
        if (encoded.startsWith(SECRET_PREFIX)) {
            encoded = encoded.substring(SECRET_PREFIX.length());
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            problems.add(SECRET, secret, "must be whsec_ followed by base64");
            return null;
        }
        if (key.length < 24 || key.length > 64) {
            problems.add(SECRET, secret, "must decode to 24 to 64 bytes (Standard Webhooks), not " + key.length);
            return null;
        }
        return key;
    }

    /** The URL requests go to, without user information. */
    public URI endpoint() {
        return endpoint;
    }

    /** The endpoint with credentials in its query redacted, for logs and errors. */
    public String redactedEndpoint() {
        return Redaction.redact(endpoint.toString());
    }

    /** Extra headers, including {@code Authorization} from the URI's user information. Values may be secret. */
    public Map<String, String> headers() {
        return headers;
    }

    /** Whether requests carry a {@code webhook-signature}. */
    public boolean signs() {
        return signingKey != null;
    }

    byte[] signingKey() {
        return signingKey;
    }

    public Duration timeout() {
        return timeout;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public boolean followRedirects() {
        return followRedirects;
    }

    /** The statuses that refuse an event for good, from {@code webhook.permanent-statuses}. */
    public Set<Integer> permanentStatuses() {
        return permanentStatuses;
    }

    public Duration retryAfterMax() {
        return retryAfterMax;
    }

    /** Names header keys only; never values or the key. */
    @Override
    public String toString() {
        return "WebhookConfig{endpoint=" + redactedEndpoint() + ", headers=" + headers.keySet() + ", signed=" + signs()
                + ", timeout=" + timeout + ", followRedirects=" + followRedirects + ", permanentStatuses="
                + permanentStatuses + '}';
    }
}
