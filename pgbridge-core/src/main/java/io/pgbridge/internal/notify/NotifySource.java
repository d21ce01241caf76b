package io.pgbridge.internal.notify;

import io.pgbridge.ConnectionException;
import io.pgbridge.DeliveryGuarantee;
import io.pgbridge.Event;
import io.pgbridge.NotifyOptions;
import io.pgbridge.SourceState;
import io.pgbridge.internal.Closing;
import io.pgbridge.internal.Reconnection;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.pipeline.Backoff;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.SourceContext;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.DoubleSupplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTENs on the routed channels over one dedicated connection and publishes each notification as an event.
 *
 * <p>NOTIFY is at-most-once by PostgreSQL's design: a notification sent while no session listens is gone (NOTIFY
 * reference page). This source keeps the window short instead: it probes an idle connection with a query whose answer
 * must come within {@code notify.probe-timeout-ms} (a socket timeout, which also catches half-open sockets), and on
 * any failure reconnects with backoff, LISTENs again, and logs how long it was deaf, counted from the last
 * moment the connection was known alive (the last notification received or probe answered). The durable path is the outbox.
 *
 * <p>It stops reading only for a bounded time: PostgreSQL keeps every notification in one queue until each listening
 * session read it, and once that queue is full other sessions' {@code NOTIFY} fails at commit. While the pipeline is
 * full it waits for room as {@link WaitOrDrop} rules (briefly, and only while that queue has plenty of room), and
 * otherwise drops notifications and counts them ({@code stats()}, a WARN line).
 */
final class NotifySource implements EventSource {
    private static final Logger log = LoggerFactory.getLogger(NotifySource.class);
    private static final String CONTENT_TEXT = "text/plain; charset=utf-8";
    private static final String CONTENT_JSON = "application/json";

    private final PostgresConnector postgres;
    private final Set<String> channels;
    private final boolean routingKeyFromPayload;
    private final int pollMillis;
    private final long probeIntervalNanos;
    private final int socketTimeoutSeconds;
    private final Backoff reconnectBackoff;
    private final WaitOrDrop waitOrDrop;
    private final QueueUsage queueUsage;
    private final DoubleSupplier queueUsageNow;
    private final WaitOrDrop.Offer<Event> pipeline;
    private final String dropReason;
    /** Reused for every event (listener thread only): a builder per notification was an allocation on its hot path. */
    private final Event.Builder events = Event.builder().source("notify");

    private volatile boolean running;
    private volatile Connection connection;
    private Thread thread;
    private SourceContext context;
    private Instant lastAlive; // the last notification read or probe answered, or when LISTEN began; listener thread

    NotifySource(PostgresConnector postgres, Set<String> channels, NotifyOptions options) {
        this.postgres = postgres;
        this.channels = Set.copyOf(channels);
        this.routingKeyFromPayload = options.routingKeyFromPayload();
        this.pollMillis = (int) options.pollInterval().toMillis();
        this.probeIntervalNanos = options.probeInterval().toNanos();
        this.socketTimeoutSeconds = (int) Math.max(1, (options.probeTimeout().toMillis() + pollMillis + 999) / 1000);
        this.reconnectBackoff = new Backoff(Duration.ofMillis(250), options.reconnectMaxBackoff());
        this.waitOrDrop = new WaitOrDrop(options.maxWait(), options.maxQueueUsagePercent() / 100.0, System::nanoTime);
        this.queueUsage = new QueueUsage(postgres, socketTimeoutSeconds);
        this.queueUsageNow = queueUsage::current;
        this.pipeline = (event, timeout) -> context.publishDeferred(event, Duration.ofNanos(timeout));
        this.dropReason = "the pipeline (sinks behind or down) refused notifications for "
                + options.maxWait().toMillis() + " ms in a row (" + NotifySettings.MAX_WAIT.key()
                + "), or PostgreSQL's notification queue is at least " + options.maxQueueUsagePercent() + "% full ("
                + NotifySettings.MAX_QUEUE_USAGE.key() + ") or its usage cannot be measured; NOTIFY is at most once:"
                + " notifications are dropped rather than left to fill PostgreSQL's notification queue";
    }

    @Override
    public String name() {
        return "notify";
    }

    @Override
    public DeliveryGuarantee guarantee() {
        return DeliveryGuarantee.AT_MOST_ONCE;
    }

    @Override
    public void start(SourceContext context) throws InterruptedException {
        this.context = context;
        try {
            connection = listen();
        } catch (SQLException e) {
            throw new ConnectionException("Cannot LISTEN on " + postgres.describe() + ": " + e.getMessage(), e);
        }
        running = true;
        lastAlive = Instant.now();
        context.state(SourceState.READING, null);
        CountDownLatch started = new CountDownLatch(1);
        thread = context.threadFactory().newThread(() -> {
            started.countDown();
            run();
        });
        thread.setName("pgbridge-notify-listener");
        thread.start();
        started.await();
        log.info("Listening for NOTIFY on {} channel(s) {} at {}", channels.size(), channels, postgres.describe());
    }

    private Connection listen() throws SQLException {
        // The socket timeout bounds every read: a probe on a half-open connection fails instead of hanging.
        Connection c = postgres.connect(Map.of("socketTimeout", Integer.toString(socketTimeoutSeconds)));
        try (Statement st = c.createStatement()) {
            for (String channel : channels) {
                st.execute("LISTEN " + Identifiers.quote(channel));
            }
            // Behind a transaction-pooling proxy LISTEN registrations do not stick; fail loudly rather than hear
            // nothing.
            Set<String> listening = new HashSet<>();
            try (ResultSet rs = st.executeQuery("SELECT pg_listening_channels()")) {
                while (rs.next()) {
                    listening.add(rs.getString(1));
                }
            }
            if (!listening.containsAll(channels)) {
                throw new SQLException("LISTEN did not register (listening on " + listening + ", wanted " + channels
                        + "); is the connection going through a transaction-pooling proxy such as pgbouncer?");
            }
        } catch (SQLException | RuntimeException e) {
            Closing.quietly(c, "the LISTEN connection");
            throw e;
        }
        return c;
    }

    private void run() {
        long lastTraffic = System.nanoTime();
        while (running) {
            try {
                PGConnection pg = connection.unwrap(PGConnection.class);
                PGNotification[] notifications = pg.getNotifications(pollMillis);
                if (notifications != null && notifications.length > 0) {
                    lastTraffic = System.nanoTime();
                    lastAlive = Instant.now();
                    try {
                        for (PGNotification n : notifications) {
                            handOver(toEvent(n));
                        }
                    } finally {
                        context.flush();
                    }
                } else if (System.nanoTime() - lastTraffic > probeIntervalNanos) {
                    probe();
                    lastTraffic = System.nanoTime();
                    lastAlive = Instant.now();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    break;
                }
                reconnect(e);
                lastTraffic = System.nanoTime();
            }
        }
        Closing.quietly(connection, "the LISTEN connection");
        queueUsage.close();
    }

    /**
     * Hands over, waiting for room while {@link WaitOrDrop} allows, or drops. Deferred: the batch read goes to the
     * sinks at the {@link SourceContext#flush()} after it, or as soon as the pipeline has to wait.
     */
    private void handOver(Event event) throws InterruptedException {
        if (!waitOrDrop.handOver(event, pipeline, queueUsageNow)) {
            context.dropped(event, dropReason);
        }
    }

    private void probe() throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("SELECT 1");
        }
    }

    private void reconnect(Exception cause) {
        Instant deafSince = lastAlive;
        context.state(SourceState.RECONNECTING, "NOTIFY connection lost: " + cause.getMessage());
        log.warn(
                "NOTIFY connection to {} lost ({}); reconnecting. Notifications sent until LISTEN is back are lost: "
                        + "plain NOTIFY is at-most-once, use pgbridge.send for durable events",
                postgres.describe(),
                cause.getMessage());
        Closing.quietly(connection, "the LISTEN connection");
        Connection reopened = Reconnection.retry(
                "NOTIFY connection to " + postgres.describe(), reconnectBackoff, () -> running, this::listen);
        if (reopened != null) {
            connection = reopened;
            Instant now = Instant.now();
            lastAlive = now;
            context.state(SourceState.READING, null);
            log.info(
                    "Listening again; notifications sent since {} ({} ms ago: the last notification or probe answer) may be"
                            + " lost",
                    deafSince,
                    Duration.between(deafSince, now).toMillis());
        }
    }

    private Event toEvent(PGNotification n) {
        String payload = n.getParameter();
        String routingKey = null;
        if (routingKeyFromPayload) {
            int bar = RoutingKeyConvention.separatorIndex(payload);
            if (bar > 0) {
                routingKey = payload.substring(0, bar);
                payload = payload.substring(bar + 1);
            }
        }
        byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        return events.timeOrderedId()
                .channel(n.getName())
                .routingKey(routingKey)
                .payloadUnsafe(bytes)
                .contentType(looksLikeJson(payload) ? CONTENT_JSON : CONTENT_TEXT)
                .build();
    }

    private static boolean looksLikeJson(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isWhitespace(c)) {
                return c == '{' || c == '[';
            }
        }
        return false;
    }

    @Override
    public void stop() {
        running = false;
        if (context != null) {
            context.state(SourceState.STOPPED, null);
        }
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(pollMillis * 4L + socketTimeoutSeconds * 1000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                t.interrupt();
            }
        }
    }

    @Override
    public void close() {
        stop();
        Closing.quietly(connection, "the LISTEN connection");
    }
}
