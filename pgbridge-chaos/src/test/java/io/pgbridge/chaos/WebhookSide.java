package io.pgbridge.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A local webhook endpoint that records every POST it answers with 2xx, and fails or stalls on the nemesis's
 * schedule: {@link #refuse()} answers 503 until {@link #accept()}; {@link #stop()} holds every request unanswered (the
 * bridge's {@code webhook.timeout-ms} expires) until {@link #start()}, then answers them 200 (processed late: the
 * bridge has retried them meanwhile, so they arrive twice).
 */
final class WebhookSide implements SinkSide {
    private static final ObjectMapper JSON = new ObjectMapper();

    private enum Mode {
        ANSWER,
        FAIL,
        STALL
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Object lock = new Object();
    private Mode mode = Mode.ANSWER;
    private volatile Deliveries deliveries;

    WebhookSide() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (!"POST".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(204, -1); // the start-up OPTIONS probe
                return;
            }
            Mode now;
            synchronized (lock) {
                while (mode == Mode.STALL) {
                    lock.wait();
                }
                now = mode;
            }
            if (now == Mode.FAIL || deliveries == null) {
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            JsonNode message = JSON.readTree(body);
            int route = Integer.parseInt(message.get("channel").asText().substring(1));
            deliveries.record(
                    route,
                    message.get("payload").get("id").asLong(),
                    exchange.getRequestHeaders().getFirst("webhook-id"),
                    false);
            exchange.sendResponseHeaders(204, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void set(Mode next) {
        synchronized (lock) {
            mode = next;
            lock.notifyAll();
        }
    }

    @Override
    public String uri() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    @Override
    public String target(int route) {
        return "topic:" + Workload.route(route);
    }

    /** A short response timeout, so that a stall is a timeout within a short run. */
    @Override
    public Map<String, String> environment() {
        return Map.of("PGBRIDGE_WEBHOOK_TIMEOUT_MS", "2000", "PGBRIDGE_WEBHOOK_CONNECT_TIMEOUT_MS", "2000");
    }

    @Override
    public void consume(Deliveries deliveries) {
        this.deliveries = deliveries;
    }

    @Override
    public void refuse() {
        set(Mode.FAIL);
    }

    @Override
    public void accept() {
        set(Mode.ANSWER);
    }

    @Override
    public void stop() {
        set(Mode.STALL);
    }

    @Override
    public void start() {
        set(Mode.ANSWER);
    }

    @Override
    public void close() {
        set(Mode.ANSWER);
        server.stop(0);
        threads.shutdownNow();
    }
}
