package io.pgbridge.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;

/** The sink compatibility kit against a local HTTP endpoint, stopped and started on the same port for outages. */
class WebhookSinkCompatibilityIT extends BrokerSinkCompatibilityKit {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every accepted POST: its target and what a consumer would see. */
    private final List<Map.Entry<String, Received>> posts = new CopyOnWriteArrayList<>();

    private final int port;
    private HttpServer endpoint;

    WebhookSinkCompatibilityIT() throws IOException {
        endpoint = endpoint(0);
        port = endpoint.getAddress().getPort();
    }

    private HttpServer endpoint(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/hook", exchange -> {
            if (exchange.getRequestMethod().equals("POST")) {
                JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
                posts.add(Map.entry(
                        body.get("target").asText(),
                        new Received(
                                payload(body),
                                exchange.getRequestHeaders().getFirst("webhook-id"),
                                headers(body.get("headers")))));
            }
            exchange.sendResponseHeaders(exchange.getRequestMethod().equals("POST") ? 204 : 405, -1);
            exchange.close();
        });
        server.start();
        return server;
    }

    /** The payload bytes back from the body: a JSON string, base64, or embedded JSON. */
    private static byte[] payload(JsonNode body) {
        if (body.has("payload_base64")) {
            return Base64.getDecoder().decode(body.get("payload_base64").asText());
        }
        JsonNode p = body.get("payload");
        return (p.isTextual() ? p.asText() : p.toString()).getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> headers(JsonNode node) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            headers.put(e.getKey(), e.getValue().asText());
        }
        return headers;
    }

    @AfterEach
    void stopEndpoint() {
        endpoint.stop(0);
    }

    @Override
    protected Sink createSink(String uri) {
        return new WebhookSinkProvider()
                .create(sinkConfig(uri, Map.of("webhook.timeout-ms", "3000", "webhook.connect-timeout-ms", "2000")));
    }

    @Override
    protected String brokerUri() {
        return "http://127.0.0.1:" + port + "/hook";
    }

    @Override
    protected Target newTarget() {
        return Target.topic("kit-" + UUID.randomUUID());
    }

    @Override
    protected Receiver receiver(Target target) {
        String wanted = target.kind() + ":" + target.name();
        return new Receiver() {
            @Override
            public List<Received> received() {
                List<Received> mine = new ArrayList<>();
                for (Map.Entry<String, Received> p : posts) {
                    if (p.getKey().equals(wanted)) {
                        mine.add(p.getValue());
                    }
                }
                return mine;
            }

            @Override
            public void close() {}
        };
    }

    @Override
    protected TestServices.Service service() {
        throw new UnsupportedOperationException("the endpoint is this test's own HTTP server");
    }

    @Override
    protected void stopBroker() {
        endpoint.stop(0);
    }

    @Override
    protected void startBroker() {
        try {
            endpoint = endpoint(port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
