package io.pgbridge.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The W3C trace context given to {@code pgbridge.send} arrives as the HTTP headers of each webhook request. */
class TraceContextWebhookIT {

    @Test
    void traceparentAndTracestateArriveAsHttpHeaders() throws Exception {
        List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
        HttpServer endpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        endpoint.createContext("/hook", exchange -> {
            if (!exchange.getRequestMethod().equals("POST")) { // start() checks the endpoint with an OPTIONS
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
                return;
            }
            int seq = OutboxOutage.seq(exchange.getRequestBody().readAllBytes());
            var h = exchange.getRequestHeaders();
            requests.add(Map.of(
                    "seq", Integer.toString(seq),
                    "traceparent", String.valueOf(h.getFirst("traceparent")),
                    "tracestate", String.valueOf(h.getFirst("tracestate"))));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        endpoint.start();
        String url = "http://127.0.0.1:" + endpoint.getAddress().getPort() + "/hook";
        try (OutboxOutage outbox = OutboxOutage.install("pgb_webhook_trace_");
                PgBridge bridge =
                        outbox.builder(url, "events->topic:events", "polling").build()) {
            bridge.start();
            outbox.send(3);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(requests)
                    .as("received; %s", bridge.stats())
                    .hasSizeGreaterThanOrEqualTo(3));
        } finally {
            endpoint.stop(0);
        }
        for (int seq = 1; seq <= 3; seq++) {
            assertThat(requests.get(seq - 1))
                    .as("request %d", seq)
                    .containsEntry("seq", Integer.toString(seq))
                    .containsEntry("traceparent", OutboxOutage.traceparent(seq))
                    .containsEntry("tracestate", OutboxOutage.tracestate(seq));
        }
    }
}
