package io.pgbridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;
import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.support.NamedThreadFactory;
import io.pgbridge.spi.support.PublishResults;
import io.pgbridge.spi.support.Redaction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes to RabbitMQ with publisher confirms. Target kinds: {@code exchange:NAME} (routing key: the event's, else
 * its channel) and {@code queue:NAME} (through the default exchange, routing key = the queue name). Every message is
 * published with {@code mandatory=true}; it counts as delivered only once the broker acked it and did not return it.
 *
 * <p>Thread-safe: each target has a confirm-mode channel of its own, on which any number of batches may be in flight
 * ({@link #publishAsync}); batches to one target are published one at a time, in call order. The connection recovers by itself after a broker restart (amqp-client automatic
 * recovery); until then publishes fail at once and the pipeline retries them.
 */
public final class AmqpSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(AmqpSink.class);

    /** AMQP short strings (exchange, queue, routing key, header names, ...) hold at most 255 bytes. */
    static final int MAX_SHORT_STRING_BYTES = 255;

    static final String HEADER_SOURCE = "pgbridge-source";
    static final String HEADER_CHANNEL = "pgbridge-channel";
    static final String HEADER_ROUTING_KEY = "pgbridge-routing-key";
    static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";

    private static final String EXCHANGE = "exchange";
    private static final String QUEUE = "queue";
    private static final String DEFAULT_EXCHANGE = "";
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final AmqpSinkConfig config;
    private final ThreadFactory threads;
    private final Map<Target, ConfirmChannel> channels = new HashMap<>(); // guarded by itself
    private final Object lock = new Object();
    private Connection connection; // guarded by lock
    private int publishing; // guarded by lock: batches in flight
    private boolean closed; // guarded by lock

    /**
     * A sink for {@code PgBridge.Builder.sink(...)}, its threads daemon threads named {@code pgbridge-amqp-<n>}.
     * Does not connect yet: the bridge starts it.
     */
    public AmqpSink(AmqpSinkConfig config) {
        this(config, new NamedThreadFactory("amqp", null));
    }

    /** @param threads creates every thread the RabbitMQ client starts */
    public AmqpSink(AmqpSinkConfig config, ThreadFactory threads) {
        this.config = config;
        this.threads = threads;
    }

    @Override
    public String name() {
        return "amqp";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of(EXCHANGE, QUEUE);
    }

    @Override
    public List<String> validateTarget(Target target) {
        String problem = shortStringProblem(target.kind() + " name '" + target.name() + "'", target.name());
        return problem == null ? List.of() : List.of(problem);
    }

    /**
     * Connects, with the connection name {@code pgbridge}.
     *
     * @throws ConnectionException when RabbitMQ cannot be reached, refuses the credentials or the vhost, or the TLS
     *     handshake fails; the message names the URI without its password
     */
    @Override
    public void start() {
        ConnectionFactory factory = config.newConnectionFactory(threads);
        Connection c;
        try {
            c = factory.newConnection("pgbridge");
        } catch (IOException | TimeoutException | RuntimeException e) {
            throw new ConnectionException(
                    "Cannot connect to RabbitMQ at " + config.redactedUri() + ": " + describe(e), e);
        }
        // Logged here rather than when recovery starts: amqp-client begins recovering only after one interval.
        c.addShutdownListener(cause -> {
            if (!cause.isInitiatedByApplication()) {
                log.warn(
                        "RabbitMQ connection to {} lost ({}); reconnecting every {} ms. Publishes fail and are "
                                + "retried until it is back",
                        config.redactedUri(),
                        cause.getMessage(),
                        config.recoveryInterval().toMillis());
            }
        });
        ((Recoverable) c).addRecoveryListener(new RecoveryListener() {
            @Override
            public void handleRecovery(Recoverable recoverable) {
                log.info("RabbitMQ connection to {} recovered", config.redactedUri());
            }

            @Override
            public void handleRecoveryStarted(Recoverable recoverable) {
                log.debug("Reconnecting to RabbitMQ at {}", config.redactedUri());
            }
        });
        c.addBlockedListener(
                reason -> log.warn(
                        "RabbitMQ blocked the connection to {} ({}); publishes wait", config.redactedUri(), reason),
                () -> log.info("RabbitMQ unblocked the connection to {}", config.redactedUri()));
        synchronized (lock) {
            connection = c;
        }
        log.info(
                "Connected to RabbitMQ at {} (vhost {}, delivery mode {}{})",
                config.redactedUri(),
                config.virtualHost(),
                config.deliveryMode(),
                config.tls() ? ", TLS with hostname verification" : "");
    }

    /**
     * A passive declare of the exchange or queue on a channel of its own: RabbitMQ answers 404 (and closes that
     * channel) when it does not exist, and never creates it. The default exchange ({@code ""}) always exists.
     *
     * @throws ConnectionException when the sink is not started or RabbitMQ refuses otherwise (403 access refused)
     */
    @Override
    public Existence targetExists(Target target) {
        Connection c;
        synchronized (lock) {
            c = connection;
        }
        if (c == null) {
            throw new IllegalStateException("targetExists() needs start() first");
        }
        boolean queue = target.kind().equals(QUEUE);
        if (!queue && target.name().equals(DEFAULT_EXCHANGE)) {
            return Existence.EXISTS;
        }
        com.rabbitmq.client.Channel channel = null;
        try {
            channel = c.createChannel();
            if (queue) {
                channel.queueDeclarePassive(target.name());
            } else {
                channel.exchangeDeclarePassive(target.name());
            }
            return Existence.EXISTS;
        } catch (IOException | ShutdownSignalException e) {
            ShutdownSignalException signal = e instanceof ShutdownSignalException
                    ? (ShutdownSignalException) e
                    : e.getCause() instanceof ShutdownSignalException ? (ShutdownSignalException) e.getCause() : null;
            if (signal != null
                    && signal.getReason() instanceof AMQP.Channel.Close
                    && ((AMQP.Channel.Close) signal.getReason()).getReplyCode() == AMQP.NOT_FOUND) {
                channel = null; // RabbitMQ closed it
                return Existence.MISSING;
            }
            throw new ConnectionException(
                    "Cannot check " + target.kind() + " '" + target.name() + "' on RabbitMQ at " + config.redactedUri()
                            + ": " + describe(e),
                    e);
        } finally {
            if (channel != null && channel.isOpen()) {
                try {
                    channel.close();
                } catch (IOException | TimeoutException | ShutdownSignalException e) {
                    log.debug("Closing the channel of a passive declare failed: {}", describe(e));
                }
            }
        }
    }

    /** The exception's own words and its cause's, which is where amqp-client puts the broker's reply. */
    private static String describe(Throwable e) {
        String text = String.valueOf(e.getMessage());
        if (e.getCause() != null && e.getCause() != e) {
            text += " (" + e.getCause().getMessage() + ")";
        }
        return e.getClass().getSimpleName() + ": " + Redaction.redact(text);
    }

    /** Publishes through {@link #publishAsync} and waits for its result. */
    @Override
    public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
        return PublishResults.await(publishAsync(target, events));
    }

    /**
     * Publishes the events on the target's channel (one confirm-mode channel per target, so that batches published one
     * after another reach RabbitMQ in that order) and returns at once; the result completes once the confirmed prefix
     * is known, at the latest after {@code amqp.confirm-timeout-ms}. An event RabbitMQ could never take (a routing key
     * over 255 bytes, ...) is refused for good, and nothing after it is published.
     */
    @Override
    public CompletionStage<PublishResult> publishAsync(Target target, List<Event> events) {
        boolean toQueue = target.kind().equals(QUEUE);
        String exchange = toQueue ? DEFAULT_EXCHANGE : target.name();
        List<ConfirmChannel.Message> messages = new ArrayList<>(events.size());
        String rejection = null;
        for (Event event : events) {
            String routingKey =
                    toQueue ? target.name() : event.routingKey() != null ? event.routingKey() : event.channel();
            rejection = problem(event, routingKey);
            if (rejection != null) {
                break;
            }
            messages.add(new ConfirmChannel.Message(exchange, routingKey, properties(event), event.payload()));
        }
        CompletableFuture<PublishResult> result = messages.isEmpty()
                ? CompletableFuture.completedFuture(PublishResult.confirmed(0))
                : publishMessages(target, messages);
        if (rejection == null) {
            return result;
        }
        String refused = rejection;
        return result.thenApply(r -> r.isFailure() ? r : PublishResult.rejected(r.confirmed(), refused));
    }

    private CompletableFuture<PublishResult> publishMessages(Target target, List<ConfirmChannel.Message> messages) {
        Connection c;
        synchronized (lock) {
            if (closed || connection == null) {
                return CompletableFuture.completedFuture(
                        PublishResult.failed(0, "the amqp sink is " + (closed ? "closed" : "not started"), null));
            }
            c = connection;
            publishing++;
        }
        CompletableFuture<PublishResult> result;
        try {
            result = channelFor(target, c).publishAsync(messages, config.confirmTimeout());
        } catch (IOException | ShutdownSignalException e) {
            result = CompletableFuture.completedFuture(PublishResult.failed(
                    0, "cannot open a channel to RabbitMQ at " + config.redactedUri() + ": " + describe(e), e));
        }
        result.whenComplete((r, e) -> {
            synchronized (lock) {
                publishing--;
                lock.notifyAll();
            }
        });
        return result;
    }

    /** The target's channel, a fresh one when it has none or its channel became unusable. */
    private ConfirmChannel channelFor(Target target, Connection c) throws IOException {
        synchronized (channels) {
            ConfirmChannel ch = channels.get(target);
            if (ch != null && ch.usable()) {
                return ch;
            }
            if (ch != null) {
                ch.close(); // batches still in flight on it fail and are retried
            }
            ch = ConfirmChannel.open(c);
            channels.put(target, ch);
            return ch;
        }
    }

    /** Why the broker could never take this event (a permanent rejection), or {@code null}. */
    static String problem(Event event, String routingKey) {
        String p = shortStringProblem("routing key", routingKey);
        if (p == null && event.contentType() != null) {
            p = shortStringProblem("content type", event.contentType());
        }
        for (Iterator<String> headers = event.headers().keySet().iterator(); p == null && headers.hasNext(); ) {
            p = shortStringProblem("header name", headers.next());
        }
        return p == null ? null : "event " + event.id() + ": " + p;
    }

    private static String shortStringProblem(String what, String value) {
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        return bytes <= MAX_SHORT_STRING_BYTES
                ? null
                : what + " is " + bytes + " bytes in UTF-8; AMQP allows at most " + MAX_SHORT_STRING_BYTES
                        + " (short string)";
    }

    /** Delivery mode, content type, message id, commit time, and the event's headers plus pgbridge's own. */
    AMQP.BasicProperties properties(Event event) {
        Map<String, Object> headers = new LinkedHashMap<>(event.headers());
        headers.put(HEADER_SOURCE, event.source());
        headers.put(HEADER_CHANNEL, event.channel());
        if (event.routingKey() != null) {
            headers.put(HEADER_ROUTING_KEY, event.routingKey());
        }
        return new AMQP.BasicProperties.Builder()
                .deliveryMode(config.deliveryMode())
                .contentType(event.contentType() != null ? event.contentType() : DEFAULT_CONTENT_TYPE)
                .messageId(event.id())
                .timestamp(event.commitTime() == null ? null : Date.from(event.commitTime()))
                .headers(headers)
                .build();
    }

    /**
     * Waits up to 5 s for publishes still waiting for confirms, then closes the channels and the connection. Failures
     * are logged.
     */
    @Override
    public void close() {
        Connection c;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
            try {
                for (long left = CLOSE_WAIT.toMillis(); publishing > 0 && left > 0; ) {
                    lock.wait(left);
                    left = (deadline - System.nanoTime()) / 1_000_000;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (publishing > 0) {
                log.warn(
                        "Closing the RabbitMQ connection with {} publish(es) still waiting for confirms; they fail "
                                + "and stay unacknowledged",
                        publishing);
            }
            c = connection;
        }
        synchronized (channels) {
            channels.values().forEach(ConfirmChannel::close);
            channels.clear();
        }
        if (c == null) {
            return;
        }
        try {
            c.close(Math.toIntExact(CLOSE_WAIT.toMillis()));
        } catch (IOException e) {
            log.warn("Closing the RabbitMQ connection to {} failed: {}", config.redactedUri(), describe(e));
        } catch (ShutdownSignalException e) {
            // Already down (the broker is away): closing still stopped the automatic recovery.
            log.debug("The RabbitMQ connection to {} was already closed: {}", config.redactedUri(), describe(e));
        }
    }

    @Override
    public String toString() {
        return "AmqpSink{" + config.redactedUri() + '}';
    }
}
