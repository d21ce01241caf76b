package io.pgbridge.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.pgbridge.PgBridge;
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
    record Received(String id, String timestamp, String signature, byte[] body, int status, long atNanos) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Deque<String> script = new ArrayDeque<>(); // "500", "429:1" (status:Retry-After); then 200
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
            String[] parts = step.split(":");
            int status = Integer.parseInt(parts[0]);
            if (parts.length > 1) {
                exchange.getResponseHeaders().add("Retry-After", parts[1]);
            }
            var h = exchange.getRequestHeaders();
            received.add(new Received(
                    h.getFirst("webhook-id"),
                    h.getFirst("webhook-timestamp"),
                    h.getFirst("webhook-signature"),
                    body,
                    status,
                    System.nanoTime()));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
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
}
