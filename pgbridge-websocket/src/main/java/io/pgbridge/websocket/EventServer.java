package io.pgbridge.websocket;

import io.pgbridge.ConnectionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The Jetty 12 server behind {@link WebSocketSink}: {@code <base>/listen/{channel}} (WebSocket),
 * {@code <base>/events/{channel}} (Server-Sent Events) and the viewer page at {@code <base>/}.
 */
final class EventServer {
    static final String LISTEN = "/listen/";
    static final String EVENTS = "/events/";
    /** How often idle connections get a ping (WebSocket) or a comment line (SSE). */
    static final Duration HEARTBEAT = Duration.ofSeconds(15);
    /** How long {@link #stop()} lets clients receive what was already queued for them. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(2);

    private static final String CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            + "connect-src 'self'; img-src data:; frame-ancestors 'none'";

    private final WebSocketConfig config;
    private final ChannelHub hub;
    private final ClientGate gate;
    private final ScheduledExecutorService timers;
    private final Scheduler scheduler;
    private final Server server;
    private final ServerConnector connector;
    private final byte[] viewer;

    EventServer(WebSocketConfig config, ChannelHub hub, ThreadFactory threads) {
        this.config = config;
        this.hub = hub;
        this.gate = new ClientGate(config, hub);
        this.viewer = resource("viewer.html");
        this.timers = Executors.newSingleThreadScheduledExecutor(threads);
        this.scheduler = new ScheduledExecutorScheduler(timers);
        QueuedThreadPool pool = new QueuedThreadPool(32, 2, 60_000, -1, null, null, threads);
        pool.setName("pgbridge-websocket");
        this.server = new Server(pool, scheduler, null);
        this.connector = new ServerConnector(server, 1, 1);
        connector.setHost(config.host());
        connector.setPort(config.port());
        server.addConnector(connector);
        server.setStopTimeout(2_000);

        ContextHandler context = new ContextHandler(config.basePath());
        WebSocketUpgradeHandler upgrade = WebSocketUpgradeHandler.from(server, context, container -> {
            container.setIdleTimeout(HEARTBEAT.multipliedBy(4));
            container.addMapping(LISTEN + "*", (request, response, callback) -> {
                String channel = Request.getPathInContext(request).substring(LISTEN.length());
                ClientGate.Refusal refusal = gate.check(request, channel);
                if (refusal != null) {
                    refuse(request, response, callback, refusal);
                    return null;
                }
                return new WebSocketClient(channel, config.clientQueueMax(), scheduler, hub::add, hub::remove);
            });
        });
        upgrade.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                return serve(request, response, callback);
            }
        });
        context.setHandler(upgrade);
        server.setHandler(context);
    }

    void start() {
        try {
            server.start();
        } catch (Exception e) {
            stop();
            throw new ConnectionException(
                    "WebSocket server could not listen on " + config.host() + ":" + config.port() + ": " + e, e);
        }
        timers.scheduleAtFixedRate(hub::heartbeat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
    }

    int port() {
        return connector.getLocalPort();
    }

    /**
     * Refuses further events, writes out what clients were queued (up to {@link #DRAIN_TIMEOUT}), disconnects them,
     * stops.
     */
    void stop() {
        hub.stopAccepting();
        try {
            hub.drain(DRAIN_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hub.closeAll("server stopping");
        try {
            server.stop();
        } catch (Exception e) {
            org.slf4j.LoggerFactory.getLogger(EventServer.class).warn("Stopping the WebSocket server failed", e);
        } finally {
            timers.shutdownNow();
        }
    }

    private boolean serve(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        if (!HttpMethod.GET.is(request.getMethod())) {
            Response.writeError(request, response, callback, 405, "only GET");
        } else if (path.equals("/") || path.isEmpty() || path.equals("/index.html")) {
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
            response.getHeaders().put("Content-Security-Policy", CSP);
            response.getHeaders().put("X-Content-Type-Options", "nosniff");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
            response.write(true, ByteBuffer.wrap(viewer), callback);
        } else if (path.startsWith(EVENTS)) {
            serveEvents(request, response, callback, path.substring(EVENTS.length()));
        } else if (path.startsWith(LISTEN)) {
            Response.writeError(request, response, callback, 400, "a WebSocket upgrade is required here");
        } else {
            Response.writeError(request, response, callback, 404, "no such endpoint");
        }
        return true;
    }

    private void serveEvents(Request request, Response response, Callback callback, String channel) {
        ClientGate.Refusal refusal = gate.check(request, channel);
        if (refusal != null) {
            refuse(request, response, callback, refusal);
            return;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        response.getHeaders().put("X-Accel-Buffering", "no");
        SseClient client = new SseClient(channel, config.clientQueueMax(), response, callback, hub::remove);
        request.addFailureListener(cause -> client.close("connection failed: " + cause));
        hub.add(client);
        client.offer(Client.Message.HEARTBEAT); // sends the headers now, so the client sees the stream open
    }

    private static void refuse(Request request, Response response, Callback callback, ClientGate.Refusal refusal) {
        if (refusal.status() == 401) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
        }
        Response.writeError(request, response, callback, refusal.status(), refusal.message());
    }

    private static byte[] resource(String name) {
        try (InputStream in = EventServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the pgbridge-websocket jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
