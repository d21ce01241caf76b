package io.pgbridge.webhook;

import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.support.NamedThreadFactory;
import io.pgbridge.spi.support.Redaction;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs each event as one JSON document (see {@link WebhookConfig} for settings) to an http(s) endpoint with the
 * JDK's {@link HttpClient}, one request at a time per route so that a route's order is kept.
 *
 * <pre>{@code
 * PgBridge.builder()
 *         .postgres("postgresql://app@localhost/app")
 *         .upstream("https://hooks.example.com/pgbridge")
 *         .setting("webhook.secret", "whsec_...")
 *         .routes("people->topic:people")
 *         .build();
 * }</pre>
 *
 * <p>Outcome per response: 2xx is delivered; a status listed in {@code webhook.permanent-statuses} (default {@value
 * WebhookConfig#DEFAULT_PERMANENT_STATUSES}) refuses the event for good: it goes to the route's dead-letter
 * destination, or halts the route; every other status (401, 403 and 404 included: an endpoint being deployed answers
 * them for a while), a timeout and a connection error are retried by the pipeline with backoff. Redirects: a 307 or
 * 308 is followed with the same POST and body when {@code webhook.follow-redirects} is true (never from https to
 * http, at most 5 hops; configured headers and Basic authentication go only to the configured origin); 301, 302 and
 * 303 are never followed, since clients turn them into a body-less GET whose 2xx would count a lost event as
 * delivered: they fail, are retried, and the error names the Location to configure instead. Headers: {@code webhook-id} (the event id, the same on
 * every retry, for deduplication), {@code webhook-timestamp} (Unix seconds of this attempt), {@code
 * webhook-signature} ({@code v1,<base64>} when {@code webhook.secret} is set), {@code content-type:
 * application/json}, the event's W3C trace context ({@code traceparent} and {@code tracestate} from its headers, when
 * valid: {@link TraceContext}), and the configured ones.
 *
 * <p>{@code Retry-After} (seconds or an HTTP date, on any retryable response) is honoured as a pause of the whole
 * endpoint, capped at {@code webhook.retry-after-max-ms}: until it ends, {@link #publish} sends nothing and reports a
 * retryable failure at once, so no delivery thread sleeps and the pipeline's backoff decides when to ask again.
 *
 * <p>Accepts every target kind; the target only appears in the body. Thread-safe.
 */
public final class WebhookSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(WebhookSink.class);

    private final WebhookConfig config;
    private final ThreadFactory threads;
    private final WebhookSigner signer;
    /** {@link System#nanoTime()} before which the endpoint asked not to be called; 0 when it did not. */
    private final AtomicLong pausedUntil = new AtomicLong();
    /** Whether a followed redirect was logged already (once per sink: every request may be redirected). */
    private final AtomicBoolean redirectWarned = new AtomicBoolean();

    private ExecutorService executor; // guarded by this, as the three below
    private HttpClient client;
    private int publishing;
    private boolean closed;

    /** A sink whose HTTP client threads are daemon threads named {@code pgbridge-webhook-<n>}. */
    public WebhookSink(WebhookConfig config) {
        this(config, new NamedThreadFactory("webhook", null));
    }

    /** A sink whose HTTP client threads come from {@code threads}. */
    public WebhookSink(WebhookConfig config, ThreadFactory threads) {
        this.config = Objects.requireNonNull(config, "config");
        this.threads = Objects.requireNonNull(threads, "threads");
        this.signer = config.signs() ? new WebhookSigner(config.signingKey()) : null;
    }

    @Override
    public String name() {
        return "webhook";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of();
    }

    /**
     * Creates the HTTP client and checks that the endpoint answers HTTP at all: one {@code OPTIONS} request without
     * body, headers or signature, whose status does not matter (most webhook receivers answer 404 or 405). This finds
     * a wrong host, port or TLS certificate at startup instead of in endless retries.
     *
     * @throws ConnectionException when the endpoint cannot be reached or the TLS handshake fails
     */
    @Override
    public synchronized void start() {
        if (client != null || closed) {
            throw new IllegalStateException("start() can be called once, before close()");
        }
        if (config.endpoint().getScheme().equalsIgnoreCase("http") && !isLoopback()) {
            log.warn(
                    "Webhook endpoint {} is plain http: payloads and signatures travel unencrypted",
                    config.redactedEndpoint());
        }
        executor = Executors.newCachedThreadPool(threads);
        client = HttpClient.newBuilder()
                .executor(executor)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER) // 307/308 are followed by post(), keeping the POST
                // plain http would otherwise offer an h2c upgrade, which some servers mishandle on a POST
                .version(
                        config.endpoint().getScheme().equalsIgnoreCase("http")
                                ? HttpClient.Version.HTTP_1_1
                                : HttpClient.Version.HTTP_2)
                .build();
        try {
            client.send(
                    HttpRequest.newBuilder(config.endpoint())
                            .timeout(config.timeout())
                            .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            close();
            throw new ConnectionException(
                    "webhook endpoint " + config.redactedEndpoint() + " cannot be reached: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new ConnectionException("interrupted while reaching " + config.redactedEndpoint(), e);
        }
        log.info("Webhook sink posting to {} ({})", config.redactedEndpoint(), config.signs() ? "signed" : "unsigned");
    }

    private boolean isLoopback() {
        String host = config.endpoint().getHost();
        return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
    }

    @Override
    public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
        HttpClient http;
        synchronized (this) {
            if (client == null || closed) {
                throw new IllegalStateException("publish() before start() or after close()");
            }
            http = client;
            publishing++;
        }
        try {
            return postAll(http, target, events);
        } finally {
            synchronized (this) {
                publishing--;
                notifyAll();
            }
        }
    }

    private PublishResult postAll(HttpClient http, Target target, List<Event> events) throws InterruptedException {
        for (int i = 0; i < events.size(); i++) {
            if (isClosed()) {
                return PublishResult.failed(i, "webhook sink closed", null);
            }
            long waitNanos = pausedUntil.get() - System.nanoTime();
            if (pausedUntil.get() != 0 && waitNanos > 0) {
                return PublishResult.failed(
                        i,
                        "endpoint " + config.redactedEndpoint() + " asked to wait (Retry-After) another "
                                + Duration.ofNanos(waitNanos).toMillis() + " ms",
                        null);
            }
            PublishResult failure = post(http, target, events.get(i), i);
            if (failure != null) {
                return failure;
            }
        }
        return PublishResult.confirmed(events.size());
    }

    /**
     * Sends one event, following 307/308 redirects when configured; {@code null} when the endpoint accepted it, else
     * the failure at {@code index}.
     */
    private PublishResult post(HttpClient http, Target target, Event event, int index) throws InterruptedException {
        byte[] body = WebhookBody.of(target, event);
        long timestamp = Instant.now().getEpochSecond();
        String signature = signer == null ? null : signer.sign(event.id(), timestamp, body);
        URI uri = config.endpoint();
        for (int redirects = 0; ; redirects++) {
            HttpResponse<Void> response;
            try {
                response = http.send(request(uri, event, timestamp, signature, body), BodyHandlers.discarding());
            } catch (HttpTimeoutException e) {
                return PublishResult.failed(
                        index,
                        "no response from " + Redaction.redact(uri.toString()) + " within "
                                + config.timeout().toMillis() + " ms",
                        e);
            } catch (IOException e) {
                return PublishResult.failed(
                        index, "could not POST to " + Redaction.redact(uri.toString()) + ": " + e, e);
            }
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
                return null;
            }
            String what = "endpoint " + Redaction.redact(uri.toString()) + " answered HTTP " + status + " to event "
                    + event.id();
            if (status < 300 || status >= 400) {
                return refusal(index, status, what, response);
            }
            Optional<URI> location = location(uri, response);
            String to = location.map(l -> Redaction.redact(l.toString())).orElse("(no Location header)");
            String notFollowed = redirectProblem(uri, status, location.orElse(null), redirects);
            if (notFollowed != null) {
                return refusal(
                        index,
                        status,
                        what + ", a redirect to " + to + " that is not followed: " + notFollowed,
                        response);
            }
            if (redirectWarned.compareAndSet(false, true)) {
                log.warn(
                        "Webhook endpoint {} redirects with HTTP {} to {}; following it (same POST and body)."
                                + " Set upstream.uri to that location to save a request per event",
                        Redaction.redact(uri.toString()),
                        status,
                        to);
            }
            uri = location.get();
        }
    }

    private HttpRequest request(URI uri, Event event, long timestamp, String signature, byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(config.timeout())
                .header("content-type", "application/json")
                .header("user-agent", "pgbridge-webhook")
                .header("webhook-id", event.id())
                .header("webhook-timestamp", Long.toString(timestamp))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signature != null) {
            request.header("webhook-signature", signature);
        }
        TraceContext.headers(event).forEach(request::header);
        if (sameOrigin(uri, config.endpoint())) { // configured headers and Basic auth may hold credentials
            config.headers().forEach(request::header);
        }
        return request.build();
    }

    /**
     * Why a 3xx response is not followed, or {@code null} when it is: only 307 and 308 keep the method and body (RFC
     * 9110 section 15.4); 301, 302 and 303 let clients, and most do, turn the POST into a GET without body.
     */
    private String redirectProblem(URI from, int status, URI to, int redirects) {
        if (status != 307 && status != 308) {
            return "following it would turn the POST into a GET without the event; set upstream.uri to the Location";
        }
        if (!config.followRedirects()) {
            return "set upstream.uri to the Location, or webhook.follow-redirects=true to follow 307/308";
        }
        if (to == null) {
            return "it has no usable Location header";
        }
        if (from.getScheme().equalsIgnoreCase("https") && !to.getScheme().equalsIgnoreCase("https")) {
            return "it leads from https to plain http, which is never followed";
        }
        if (redirects >= WebhookConfig.MAX_REDIRECTS) {
            return "more than " + WebhookConfig.MAX_REDIRECTS + " redirects in a row";
        }
        return null;
    }

    /**
     * The Location of a redirect resolved against the request's URI; empty when absent, not http(s), without a host or
     * with user information.
     */
    private static Optional<URI> location(URI base, HttpResponse<?> response) {
        return response.headers().firstValue("location").flatMap(value -> {
            try {
                URI resolved = base.resolve(value.trim());
                String scheme = resolved.getScheme();
                boolean usable = scheme != null
                        && (scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                        && resolved.getHost() != null
                        && resolved.getRawUserInfo() == null;
                return usable ? Optional.of(resolved) : Optional.empty();
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        });
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost().equalsIgnoreCase(b.getHost())
                && effectivePort(a) == effectivePort(b);
    }

    private static int effectivePort(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /**
     * A non-2xx answer that is not followed: refused for good when its status is in {@code
     * webhook.permanent-statuses}, else retried (honouring {@code Retry-After}).
     */
    private PublishResult refusal(int index, int status, String what, HttpResponse<?> response) {
        if (config.permanentStatuses().contains(status)) {
            return PublishResult.rejected(
                    index, what + "; HTTP " + status + " is in webhook.permanent-statuses, so it is not retried");
        }
        Optional<Duration> retryAfter = retryAfter(response);
        retryAfter.ifPresent(this::pause);
        return PublishResult.failed(
                index,
                what
                        + retryAfter
                                .map(d -> " (Retry-After " + d.toMillis() + " ms)")
                                .orElse(""),
                null);
    }

    /** The {@code Retry-After} of a response, capped at {@code webhook.retry-after-max-ms}; empty when absent. */
    private Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers()
                .firstValue("retry-after")
                .flatMap(WebhookSink::parseRetryAfter)
                .map(d -> d.compareTo(config.retryAfterMax()) > 0 ? config.retryAfterMax() : d);
    }

    /** RFC 9110 section 10.2.3: delay-seconds or an HTTP-date. Unparsable values are ignored. */
    static Optional<Duration> parseRetryAfter(String value) {
        String v = value.trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant();
                Duration d = Duration.between(Instant.now(), at);
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
    }

    private void pause(Duration d) {
        if (!d.isZero()) {
            pausedUntil.set(System.nanoTime() + d.toNanos());
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Stops sending: a publish in progress ends after its current request (at most {@code webhook.timeout-ms}),
     * reporting the rest unconfirmed; then the client's threads stop. Idempotent.
     */
    @Override
    public synchronized void close() {
        closed = true;
        long deadline = System.nanoTime() + config.timeout().plusSeconds(1).toNanos();
        try {
            while (publishing > 0 && deadline - System.nanoTime() > 0) {
                wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        client = null;
    }

    @Override
    public String toString() {
        return "WebhookSink{" + config + '}';
    }
}
