package io.pgbridge.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgbridge.PgBridge;
import io.pgbridge.RouteStats;
import io.pgbridge.testkit.TestServices;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The webhook sink behind a real bridge (NOTIFY source) against a local HTTP endpoint. */
class WebhookSinkIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as the endpoint saw it. */
    record Received(
            String method, String id, String timestamp, String signature, byte[] body, int status, long atNanos) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    // "500", "429:1" (status:Retry-After), "302>/moved" (status>Location); then 200
    private final Deque<String> script = new ArrayDeque<>();
    private final List<Received> moved = new CopyOnWriteArrayList<>(); // requests to /moved, always answered 200
    private final List<String> deadLetters = new CopyOnWriteArrayList<>();
    private final String channel =
            "wh_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private HttpServer server;

    @BeforeEach
    void startEndpoint() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", exchange -> {
            if (!exchange.getRequestMethod().equals("POST")) { // the sink's reachability check at start
                exchange.sendResponseHeaders(405, -1);
                exchange.close();
                return;
            }
            byte[] body = exchange.getRequestBody().readAllBytes();
            String step;
            synchronized (script) {
                step = script.isEmpty() ? "200" : script.removeFirst();
            }
            String[] redirect = step.split(">");
            String[] parts = redirect[0].split(":");
            int status = Integer.parseInt(parts[0]);
            if (parts.length > 1) {
                exchange.getResponseHeaders().add("Retry-After", parts[1]);
            }
            if (redirect.length > 1) {
                exchange.getResponseHeaders().add("Location", redirect[1]);
            }
            received.add(received(exchange, body, status));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.createContext(
                "/moved",
                exchange -> { // answers anything, a GET included, with 200
                    moved.add(received(exchange, exchange.getRequestBody().readAllBytes(), 200));
                    exchange.sendResponseHeaders(200, -1);
                    exchange.close();
                });
        server.start();
    }

    private static Received received(HttpExchange exchange, byte[] body, int status) {
        var h = exchange.getRequestHeaders();
        return new Received(
                exchange.getRequestMethod(),
                h.getFirst("webhook-id"),
                h.getFirst("webhook-timestamp"),
                h.getFirst("webhook-signature"),
                body,
                status,
                System.nanoTime());
    }

    @AfterEach
    void stopEndpoint() {
        server.stop(0);
    }

    private PgBridge bridge(Map<String, String> settings) {
        return PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream("http://127.0.0.1:" + server.getAddress().getPort() + "/hook")
                .routes(channel + "->topic:" + channel)
                .settings(settings)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .deadLetterHandler((event, target, reason) -> deadLetters.add(event.payloadAsString() + " | " + reason))
                .build();
    }

    private void notify(String... payloads) throws Exception {
        try (Connection c = TestServices.postgresConnection();
                PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
            for (String p : payloads) {
                ps.setString(1, channel);
                ps.setString(2, p);
                ps.execute();
            }
        }
    }

    @Test
    void signsEachRequestTheStandardWebhooksWay() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String secret = "whsec_" + Base64.getEncoder().encodeToString(key);
        try (PgBridge bridge = bridge(Map.of("webhook.secret", secret, "webhook.headers", "X-Tenant=acme"))) {
            bridge.start();
            notify("{\"name\": \"Paul\", \"age\": 51}", "plain text");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);
        }
        for (Received r : received) {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((r.id() + "." + r.timestamp() + ".").getBytes(StandardCharsets.UTF_8));
            String expected = "v1," + Base64.getEncoder().encodeToString(mac.doFinal(r.body()));
            assertThat(r.signature()).as("signature over id.timestamp.body").isEqualTo(expected);
            assertThat(Long.parseLong(r.timestamp()))
                    .as("timestamp in Unix seconds, near now")
                    .isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));
            assertThat(r.json().get("id").asText())
                    .as("body id is the webhook-id")
                    .isEqualTo(r.id());
        }
        JsonNode first = received.get(0).json();
        assertThat(first.get("channel").asText()).as("channel").isEqualTo(channel);
        assertThat(first.get("source").asText()).as("source").isEqualTo("notify");
        assertThat(first.get("target").asText()).as("target").isEqualTo("topic:" + channel);
        assertThat(first.get("payload").get("name").asText())
                .as("a JSON payload is embedded as JSON")
                .isEqualTo("Paul");
        assertThat(first.has("commit_time")).as("commit_time field present").isTrue();
        assertThat(received.get(1).json().get("payload").asText())
                .as("a text payload is a JSON string")
                .isEqualTo("plain text");
    }

    @Test
    void retriesOn500And429HonouringRetryAfter() throws Exception {
        script.addAll(List.of("500", "429:1"));
        try (PgBridge bridge = bridge(Map.of())) {
            bridge.start();
            notify("once");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.stream().anyMatch(r -> r.status() == 200));
            assertThat(bridge.stats().retries())
                    .as("retries counted by the pipeline")
                    .isGreaterThanOrEqualTo(2);
        }
        assertThat(received)
                .extracting(Received::status)
                .as("500, then 429, then 200")
                .containsExactly(500, 429, 200);
        assertThat(received)
                .extracting(Received::id)
                .as("same webhook-id on every attempt")
                .containsOnly(received.get(0).id());
        long waitedMs = Duration.ofNanos(
                        received.get(2).atNanos() - received.get(1).atNanos())
                .toMillis();
        assertThat(waitedMs).as("nothing sent before Retry-After: 1 s elapsed").isGreaterThanOrEqualTo(950);
        assertThat(deadLetters).as("no dead letters").isEmpty();
    }

    @Test
    void doesNotRetryA400AndDeadLettersIt() throws Exception {
        script.add("400");
        try (PgBridge bridge = bridge(Map.of())) {
            bridge.start();
            notify("refused", "next");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2 && deadLetters.size() == 1);
            assertThat(bridge.stats().retries()).as("no retry").isZero();
        }
        assertThat(received).extracting(Received::status).as("one attempt each").containsExactly(400, 200);
        assertThat(deadLetters.get(0))
                .as("dead letter names the event and the status")
                .startsWith("refused | ")
                .contains("HTTP 400");
    }

    @Test
    void keepsTheOrderOfARouteAcrossRetries() throws Exception {
        script.addAll(List.of("200", "500", "200", "200", "503", "503", "200", "429", "200", "500"));
        List<String> sent =
                IntStream.range(0, 40).mapToObj(i -> "{\"seq\": " + i + "}").collect(Collectors.toList());
        try (PgBridge bridge = bridge(Map.of())) {
            bridge.start();
            notify(sent.toArray(String[]::new));
            await().atMost(Duration.ofSeconds(20))
                    .until(() ->
                            received.stream().filter(r -> r.status() == 200).count() == sent.size());
        }
        List<Integer> delivered = new ArrayList<>();
        for (Received r : received) {
            if (r.status() == 200) {
                delivered.add(r.json().get("payload").get("seq").asInt());
            }
        }
        assertThat(delivered)
                .as("accepted in NOTIFY order, each once")
                .containsExactlyElementsOf(IntStream.range(0, 40).boxed().collect(Collectors.toList()));
    }

    @Test
    void retries401And404DuringADeployAndDeliversEveryEventOnceInOrder() throws Exception {
        List<String> deploy = new ArrayList<>(Collections.nCopies(10, "200"));
        deploy.addAll(List.of("404", "404", "401", "401", "403", "404"));
        script.addAll(deploy);
        List<String> sent =
                IntStream.range(0, 60).mapToObj(i -> "{\"seq\": " + i + "}").collect(Collectors.toList());
        try (PgBridge bridge = bridge(Map.of())) {
            bridge.start();
            notify(sent.toArray(String[]::new));
            await().atMost(Duration.ofSeconds(20))
                    .until(() ->
                            received.stream().filter(r -> r.status() == 200).count() == sent.size());
            assertThat(bridge.stats().retries())
                    .as("each deploy answer retried")
                    .isGreaterThanOrEqualTo(6);
        }
        assertThat(acceptedSeqs())
                .as("every event accepted once, in NOTIFY order, after the deploy answered 404/401/403")
                .containsExactlyElementsOf(IntStream.range(0, 60).boxed().collect(Collectors.toList()));
        assertThat(received.stream()
                        .filter(r -> r.status() != 200)
                        .map(Received::id)
                        .distinct())
                .as("only the event at the head of the route was retried (alone)")
                .hasSize(1);
        assertThat(deadLetters).as("nothing dead-lettered").isEmpty();
    }

    @Test
    void a302IsNeverCountedAsDeliveredAndNamesTheLocation() throws Exception {
        script.addAll(Collections.nCopies(4, "302>/moved"));
        try (PgBridge bridge = bridge(Map.of("webhook.follow-redirects", "true"))) {
            bridge.start();
            notify("redirected");
            await().atMost(Duration.ofSeconds(10))
                    .until(() ->
                            received.stream().filter(r -> r.status() == 302).count() == 4);
            RouteStats route = bridge.stats().routes().get(0);
            assertThat(route.delivered()).as("a 302 is not a delivery").isZero();
            assertThat(route.lastError())
                    .as("the error names the Location and the fix")
                    .contains("HTTP 302", "/moved", "POST into a GET", "upstream.uri");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.stream().anyMatch(r -> r.status() == 200));
        }
        assertThat(moved).as("the redirect target never saw a request").isEmpty();
        assertThat(received)
                .extracting(Received::status)
                .as("four 302s retried, then accepted at the configured URL")
                .containsExactly(302, 302, 302, 302, 200);
        assertThat(deadLetters)
                .as("a redirect is not a reason to drop the event")
                .isEmpty();
    }

    @Test
    void a307IsFollowedWithTheSamePostAndBody() throws Exception {
        script.add("307>/moved");
        try (PgBridge bridge = bridge(Map.of("webhook.follow-redirects", "true"))) {
            bridge.start();
            notify("{\"moved\": true}");
            await().atMost(Duration.ofSeconds(10)).until(() -> moved.size() == 1);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> bridge.stats().routes().get(0).delivered() == 1);
            assertThat(bridge.stats().retries())
                    .as("no retry: the redirect was followed")
                    .isZero();
        }
        Received original = received.get(0);
        Received followed = moved.get(0);
        assertThat(followed.method()).as("the method stays POST").isEqualTo("POST");
        assertThat(followed.body()).as("the same body").isEqualTo(original.body());
        assertThat(followed.id()).as("the same webhook-id").isEqualTo(original.id());
        assertThat(followed.json().get("payload").get("moved").asBoolean())
                .as("payload")
                .isTrue();
    }

    @Test
    void a308IsNotFollowedUnlessConfiguredAndIsRetried() throws Exception {
        script.addAll(List.of("308>/moved", "308>/moved"));
        try (PgBridge bridge = bridge(Map.of())) {
            bridge.start();
            notify("stays");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.stream().anyMatch(r -> r.status() == 200));
            assertThat(bridge.stats().retries()).as("both 308s retried").isEqualTo(2);
        }
        assertThat(moved).as("not followed by default").isEmpty();
        assertThat(deadLetters).as("nothing dead-lettered").isEmpty();
    }

    private List<Integer> acceptedSeqs() throws Exception {
        List<Integer> seqs = new ArrayList<>();
        for (Received r : received) {
            if (r.status() == 200) {
                seqs.add(r.json().get("payload").get("seq").asInt());
            }
        }
        return seqs;
    }
}
