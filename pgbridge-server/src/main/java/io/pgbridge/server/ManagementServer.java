package io.pgbridge.server;

import static io.pgbridge.server.PgBridgeServer.log;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgbridge.ConfigurationException;
import io.pgbridge.Health;
import io.pgbridge.PgBridge;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.support.NamedThreadFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The management endpoint of {@code pgbridge run}, on the JDK's HTTP server: {@code GET /metrics} (the bridge's
 * meters and the JVM's, Prometheus text format 0.0.4), {@code GET /health/live} and {@code GET /health/ready} (200 when
 * {@link Health#live()} or {@link Health#ready()}, 503 otherwise, with a small JSON body naming the problems). One
 * named thread serves the requests; each answer is computed when asked (a scrape reads the bridge's counters).
 */
final class ManagementServer implements AutoCloseable {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer http;
    private final ExecutorService executor;
    private final JvmGcMetrics gc; // holds listeners on the garbage collectors until closed

    private ManagementServer(HttpServer http, ExecutorService executor, JvmGcMetrics gc) {
        this.http = http;
        this.executor = executor;
        this.gc = gc;
    }

    /**
     * Binds and serves {@code management.address:management.port}, with the JVM's meters added to {@code registry}
     * (memory, garbage collection, threads, CPU, uptime); logs nothing (the caller says where it listens once
     * the bridge runs).
     *
     * @throws ConfigurationException when the address is unknown or the port is taken, naming the settings to change
     */
    static ManagementServer start(Settings settings, PgBridge bridge, PrometheusMeterRegistry registry) {
        String address = settings.string(ServerSettings.MANAGEMENT_ADDRESS);
        int port = (int) settings.integer(ServerSettings.MANAGEMENT_PORT);
        InetSocketAddress bind = new InetSocketAddress(address, port);
        if (bind.isUnresolved()) {
            throw new ConfigurationException(Settings.problem(
                    ServerSettings.MANAGEMENT_ADDRESS,
                    address,
                    "is not an address of this host; use 127.0.0.1 "
                            + "(the default), 0.0.0.0 or one of the host's addresses"));
        }
        HttpServer http;
        try {
            http = HttpServer.create(bind, 0);
        } catch (IOException e) {
            throw new ConfigurationException("the management endpoint cannot listen on " + address + ":" + port
                    + " (" + e.getMessage() + "); set " + ServerSettings.MANAGEMENT_PORT.envName()
                    + " to a free port (and " + ServerSettings.MANAGEMENT_ADDRESS.envName() + " to an address of this"
                    + " host), or " + ServerSettings.MANAGEMENT_ENABLED.envName() + "=false");
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(new NamedThreadFactory("management", null));
        http.setExecutor(executor);
        http.createContext("/", exchange -> {
            try (exchange) {
                answer(exchange, bridge, registry);
            } catch (RuntimeException e) {
                log.warn("The management endpoint failed to answer {}: {}", exchange.getRequestURI(), e.toString());
            }
        });
        JvmGcMetrics gc = new JvmGcMetrics();
        for (MeterBinder jvm : List.of(
                new JvmMemoryMetrics(), gc, new JvmThreadMetrics(), new ProcessorMetrics(), new UptimeMetrics())) {
            jvm.bindTo(registry);
        }
        http.start();
        return new ManagementServer(http, executor, gc);
    }

    /** {@code http://address:port}, with the port chosen when {@code management.port} is 0. */
    String url() {
        InetSocketAddress bound = http.getAddress();
        return "http://" + bound.getHostString() + ":" + bound.getPort();
    }

    private static void answer(HttpExchange exchange, PgBridge bridge, PrometheusMeterRegistry registry)
            throws IOException {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            send(exchange, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
            return;
        }
        switch (exchange.getRequestURI().getPath()) {
            case "/metrics" -> send(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
            case "/health/live" -> {
                Health health = bridge.health();
                health(exchange, health, health.live(), false);
            }
            case "/health/ready" -> {
                Health health = bridge.health();
                health(exchange, health, health.ready(), true);
            }
            default -> send(exchange, 404, "text/plain; charset=utf-8", "/metrics, /health/live, /health/ready\n");
        }
    }

    /**
     * {@code {"status":"UP","state":"RUNNING","problems":[]}}: 200 when up, 503 when down; the problems of
     * {@link Health#problems()} for readiness, none for liveness (its only cause is the state).
     */
    private static void health(HttpExchange exchange, Health health, boolean up, boolean withProblems)
            throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", up ? "UP" : "DOWN");
        body.put("state", health.state().name());
        body.put("problems", withProblems ? health.problems() : List.of());
        send(exchange, up ? 200 : 503, "application/json", JSON.writeValueAsString(body) + "\n");
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Stops listening at once (a scrape under way is cut) and ends the thread. */
    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        gc.close();
    }
}
