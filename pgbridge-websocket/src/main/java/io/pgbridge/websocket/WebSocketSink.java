package io.pgbridge.websocket;

import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.support.NamedThreadFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sink that is a small WebSocket server: clients connect to {@code ws://host:7700/listen/{channel}} and receive,
 * as one text message each, the payload of every event routed to {@code topic:{channel}}; Server-Sent Events clients
 * use {@code http://host:7700/events/{channel}}; a viewer page at {@code http://host:7700/} shows events live.
 * {@link #start()} starts the server and {@link #close()} stops it, with the bridge.
 *
 * <pre>{@code
 * PgBridge.builder()
 *         .postgres("postgresql://app@localhost/app")
 *         .upstream("ws://127.0.0.1:7700")
 *         .routes("people->topic:people")
 *         .build();
 * }</pre>
 *
 * <p><b>At-most-once.</b> An event is confirmed to the pipeline as soon as it is queued for the clients connected at
 * that moment: a client that is not connected, disconnects, or is cut off for being slow misses it, and nothing is
 * replayed. Use a broker sink where events must not be lost.
 *
 * <p>Never blocks the bridge: each client has a bounded queue ({@code websocket.client-queue-max}); a client that
 * falls further behind is disconnected (close code 1008). See {@link WebSocketConfig} for the security defaults.
 * Target kind: {@code topic}. Thread-safe.
 */
public final class WebSocketSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(WebSocketSink.class);

    private final WebSocketConfig config;
    private final ThreadFactory threads;
    private final ChannelHub hub = new ChannelHub();
    private EventServer server; // guarded by this

    /** A server on {@code ws://127.0.0.1:7700/} with the default settings. */
    public WebSocketSink() {
        this(WebSocketConfig.builder().build());
    }

    /** A server whose threads are daemon threads named {@code pgbridge-websocket-<n>}. */
    public WebSocketSink(WebSocketConfig config) {
        this(config, new NamedThreadFactory("websocket", null));
    }

    /** A server whose threads come from {@code threads}. */
    public WebSocketSink(WebSocketConfig config, ThreadFactory threads) {
        this.config = Objects.requireNonNull(config, "config");
        this.threads = Objects.requireNonNull(threads, "threads");
    }

    @Override
    public String name() {
        return "websocket";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of("topic");
    }

    @Override
    public List<String> validateTarget(Target target) {
        if (!config.channelAllowed(target.name())) {
            return List.of("topic '" + target.name() + "' is outside " + WebSocketConfig.CHANNELS.envName()
                    + ": no client could listen to it");
        }
        return List.of();
    }

    /**
     * Starts listening.
     *
     * @throws io.pgbridge.ConnectionException when the address cannot be bound (port in use, ...)
     * @throws IllegalStateException when called twice
     */
    @Override
    public synchronized void start() {
        if (server != null) {
            throw new IllegalStateException("start() can be called once");
        }
        EventServer s = new EventServer(config, hub, threads);
        s.start();
        server = s;
        log.info(
                "WebSocket sink listening on ws://{}:{}{} (viewer at http://{}:{}{})",
                config.host(),
                s.port(),
                config.basePath(),
                config.host(),
                s.port(),
                config.basePath());
    }

    /**
     * Queues each event's payload for the clients of {@code target}'s channel and confirms them all; never waits for
     * a client. A publish that {@link #close()} overtakes confirms none: what it confirms, the clients connected then
     * receive before the server stops (within {@link EventServer#DRAIN_TIMEOUT}).
     *
     * @throws IllegalStateException before {@link #start()} or after {@link #close()}
     */
    @Override
    public PublishResult publish(Target target, List<Event> events) {
        synchronized (this) {
            if (server == null) {
                throw new IllegalStateException("publish() before start() or after close()");
            }
        }
        List<Client.Message> messages = new ArrayList<>(events.size());
        for (Event e : events) {
            messages.add(new Client.Message(e.id(), e.payloadAsString()));
        }
        if (!hub.broadcast(target.name(), messages)) {
            return PublishResult.failed(0, "the WebSocket sink is closing", null);
        }
        return PublishResult.confirmed(events.size());
    }

    /** The port the server listens on (useful with port {@code 0}); {@code -1} when not started. */
    public synchronized int port() {
        return server == null ? -1 : server.port();
    }

    /** Clients (WebSocket and SSE) connected now. */
    public int connectedClients() {
        return hub.connected();
    }

    /** Clients (WebSocket and SSE) of {@code channel} connected now. */
    public int connectedClients(String channel) {
        return hub.connected(channel);
    }

    /** Disconnects every client and stops the server. Idempotent. */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop();
            server = null;
        }
    }

    @Override
    public String toString() {
        return "WebSocketSink{" + config + '}';
    }
}
