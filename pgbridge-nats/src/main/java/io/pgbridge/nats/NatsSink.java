package io.pgbridge.nats;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.Nats;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.pgbridge.ConfigurationException;
import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.support.NamedThreadFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes events to NATS subjects ({@code subject:NAME}) with jnats. Created by {@link NatsSinkProvider}; see
 * {@link NatsSinkConfig} for the settings.
 *
 * <ul>
 *   <li>A subject a JetStream stream captures is published with JetStream: the event id is the message's
 *       {@code Nats-Msg-Id}, so the stream's duplicate window drops a message published again after a failure, and
 *       the event counts as delivered once the stream's publish ack arrived (the stream stored it). Effectively once
 *       within that window (default 2 minutes), at least once beyond it.
 *   <li>Any other subject is refused (the publish fails and is retried, so that a stream created later is used),
 *       unless {@code nats.core-subjects} is on: then it is published on core NATS, <b>at most once</b> as NATS
 *       itself promises (nothing is stored; subscribers not connected at that moment miss it), confirmed once the
 *       server answered a PING sent after the batch.
 * </ul>
 *
 * Which stream captures a subject is looked up once per subject: at {@link #start()} for every subject
 * {@link #validateTarget validated} before it (the routes' targets), else at its first publish.
 *
 * <p>Headers: {@code pgbridge-event-id}, {@code pgbridge-source}, {@code pgbridge-channel},
 * {@code pgbridge-routing-key} (when set), {@code Content-Type} (when known), then the event's own headers (trace
 * context such as {@code traceparent} travels among them); a value that is not printable ASCII is sent as an RFC 2047
 * encoded word ({@link HeaderValues}). The data is the payload bytes unchanged. A header name NATS cannot carry (with
 * {@code :}, a space or a non-ASCII character) or a payload over the server's {@code max_payload} can never be
 * published: that event goes to the dead-letter handler.
 *
 * <p>Thread-safe: one connection shared by all delivery threads; while it is down publishes fail at once and jnats
 * reconnects by itself. Its threads come from the sink's thread factory.
 */
public final class NatsSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(NatsSink.class);

    static final String HEADER_EVENT_ID = "pgbridge-event-id";
    static final String HEADER_SOURCE = "pgbridge-source";
    static final String HEADER_CHANNEL = "pgbridge-channel";
    static final String HEADER_ROUTING_KEY = "pgbridge-routing-key";
    static final String HEADER_CONTENT_TYPE = "Content-Type";

    /** The stream that captures a subject, or {@link #CORE} for core NATS. */
    private static final String CORE = "";

    private final NatsSinkConfig config;
    private final ThreadFactory threads;
    private final Set<String> declaredSubjects = ConcurrentHashMap.newKeySet();
    private final Map<String, String> streamBySubject = new ConcurrentHashMap<>();

    private final Object lock = new Object();
    private Connection connection; // guarded by lock
    private JetStream jetStream; // guarded by lock
    private JetStreamManagement management; // guarded by lock
    private boolean closed; // guarded by lock

    /** A sink for {@code PgBridge.Builder.sink(...)}, its threads daemon threads named {@code pgbridge-nats-<n>}. */
    public NatsSink(NatsSinkConfig config) {
        this(config, new NamedThreadFactory("nats", null));
    }

    /** @param threads creates every thread the NATS client starts */
    public NatsSink(NatsSinkConfig config, ThreadFactory threads) {
        this.config = config;
        this.threads = threads;
    }

    @Override
    public String name() {
        return "nats";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of("subject");
    }

    /** Refuses subjects with wildcards or blanks, and remembers the subject for {@link #start()}'s check. */
    @Override
    public List<String> validateTarget(Target target) {
        String subject = target.name();
        if (subject.isEmpty()
                || subject.chars().anyMatch(c -> c == '*' || c == '>' || Character.isWhitespace(c))
                || subject.startsWith(".")
                || subject.endsWith(".")
                || subject.contains("..")) {
            return List.of("subject '" + subject + "' is not a NATS subject to publish to: tokens separated by '.',"
                    + " without wildcards (* >) or whitespace");
        }
        declaredSubjects.add(subject);
        return List.of();
    }

    /**
     * Connects and looks up which JetStream stream captures each route subject.
     *
     * @throws ConnectionException when no server can be reached within {@code nats.connect-timeout-ms} or the
     *     credentials are refused; the message names the servers and the user, never the password. Nothing keeps
     *     reconnecting after it.
     * @throws ConfigurationException naming every route subject no stream captures, unless
     *     {@code nats.core-subjects}
     */
    @Override
    public void start() {
        synchronized (lock) {
            if (connection != null || closed) {
                throw new IllegalStateException("start() can be called once");
            }
        }
        Connection c;
        try {
            c = Nats.connect(config.options(threads));
        } catch (IOException | RuntimeException e) {
            throw new ConnectionException(
                    "Cannot connect to NATS at " + config.endpoint() + config.who() + ": " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("Interrupted while connecting to NATS at " + config.endpoint(), e);
        }
        c.addConnectionListener((conn, event) -> {
            if (event == ConnectionListener.Events.DISCONNECTED) {
                log.warn(
                        "NATS connection to {} lost; reconnecting. Publishes fail and are retried until it is back",
                        config.endpoint());
            } else if (event == ConnectionListener.Events.RECONNECTED) {
                log.info("NATS connection to {} recovered", config.endpoint());
            }
        });
        try {
            JetStreamOptions options = JetStreamOptions.builder()
                    .requestTimeout(config.publishTimeout())
                    .build();
            synchronized (lock) {
                connection = c;
                jetStream = c.jetStream(options);
                management = c.jetStreamManagement(options);
            }
            Set<String> problems = new TreeSet<>();
            for (String subject : declaredSubjects) {
                String problem = resolve(subject);
                if (problem != null) {
                    problems.add(problem);
                }
            }
            if (!problems.isEmpty()) {
                throw new ConfigurationException(List.copyOf(problems));
            }
        } catch (IOException e) {
            close();
            throw new ConnectionException("Cannot use JetStream at " + config.endpoint() + ": " + describe(e), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        log.info("NATS sink connected: {}, streams by subject {}", config, streamBySubject);
    }

    /**
     * Looks up the stream that captures {@code subject} and remembers it; {@code null} when the subject can be
     * published, else why not.
     *
     * @throws IOException when the server does not answer
     */
    private String resolve(String subject) throws IOException {
        if (streamBySubject.containsKey(subject)) {
            return null;
        }
        JetStreamManagement jsm;
        synchronized (lock) {
            jsm = management;
        }
        List<String> streams;
        try {
            streams = jsm.getStreamNames(subject);
        } catch (JetStreamApiException e) {
            streams = List.of(); // JetStream is not enabled for this account
            log.debug("JetStream lookup of subject '{}' failed: {}", subject, e.getMessage());
        }
        if (!streams.isEmpty()) {
            streamBySubject.put(subject, streams.get(0));
            return null;
        }
        if (config.coreSubjects()) {
            streamBySubject.put(subject, CORE);
            return null;
        }
        return "no JetStream stream on " + config.endpoint() + " captures subject '" + subject + "': create one "
                + "(nats stream add --subjects '" + subject + "'), or set " + NatsSinkConfig.CORE_SUBJECTS.envName()
                + "=true to publish it on core NATS at most once";
    }

    /**
     * Asks JetStream whether a stream captures the subject (the stream names filtered by subject), waiting at most
     * {@code nats.connect-timeout-ms}. Without one the subject is {@link Existence#MISSING}, or
     * {@link Existence#CANNOT_CHECK} when {@code nats.core-subjects} is on: core NATS needs nothing to exist and
     * keeps nothing. An account without JetStream has no stream, so its subjects are missing too.
     *
     * @throws IllegalStateException before {@link #start()}
     * @throws ConnectionException when the server does not answer in time
     */
    @Override
    public Existence targetExists(Target target) throws InterruptedException {
        Connection c;
        synchronized (lock) {
            c = connection;
        }
        if (c == null) {
            throw new IllegalStateException("targetExists() needs start() first");
        }
        List<String> streams;
        try {
            streams = c.jetStreamManagement(JetStreamOptions.builder()
                            .requestTimeout(config.connectTimeout())
                            .build())
                    .getStreamNames(target.name());
        } catch (JetStreamApiException e) {
            streams = List.of();
        } catch (IOException e) {
            throw new ConnectionException(
                    "Cannot ask NATS at " + config.endpoint() + " which stream captures subject '" + target.name()
                            + "': " + describe(e),
                    e);
        }
        if (!streams.isEmpty()) {
            return Existence.EXISTS;
        }
        return config.coreSubjects() ? Existence.CANNOT_CHECK : Existence.MISSING;
    }

    @Override
    public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
        Connection c;
        JetStream js;
        synchronized (lock) {
            if (connection == null || closed) {
                return PublishResult.failed(0, "the NATS sink is " + (closed ? "closed" : "not started"), null);
            }
            c = connection;
            js = jetStream;
        }
        if (c.getStatus() != Connection.Status.CONNECTED) {
            // jnats would buffer the messages until it reconnects: fail now, the pipeline retries
            return PublishResult.failed(
                    0, "not connected to NATS at " + config.endpoint() + " (" + c.getStatus() + ")", null);
        }
        String subject = target.name();
        try {
            String problem = resolve(subject);
            if (problem != null) {
                return PublishResult.failed(0, problem, null);
            }
        } catch (IOException | RuntimeException e) {
            return PublishResult.failed(0, "cannot look up the stream of subject '" + subject + "': " + describe(e), e);
        }
        String stream = streamBySubject.get(subject);
        return stream.equals(CORE) ? publishCore(c, subject, events) : publishJetStream(js, stream, subject, events);
    }

    private PublishResult publishJetStream(JetStream js, String stream, String subject, List<Event> events)
            throws InterruptedException {
        List<CompletableFuture<PublishAck>> acks = new ArrayList<>(events.size());
        String refused = null;
        for (Event event : events) {
            try {
                PublishOptions options = PublishOptions.builder()
                        .messageId(event.id())
                        .expectedStream(stream)
                        .build();
                acks.add(js.publishAsync(message(subject, event), options));
            } catch (IllegalArgumentException e) {
                refused = "event " + event.id() + " cannot be published to NATS: " + e.getMessage();
                break;
            } catch (RuntimeException e) {
                acks.add(CompletableFuture.failedFuture(e));
                break;
            }
        }
        long deadline = System.nanoTime() + config.publishTimeout().toNanos();
        for (int i = 0; i < acks.size(); i++) {
            try {
                acks.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                return PublishResult.failed(
                        i,
                        "JetStream publish to subject '" + subject + "' (stream " + stream + ") failed: "
                                + describe(e.getCause()),
                        e.getCause());
            } catch (TimeoutException e) {
                return PublishResult.failed(
                        i,
                        "no JetStream publish ack from " + config.endpoint() + " within "
                                + config.publishTimeout().toMillis() + " ms",
                        e);
            }
        }
        return refused == null ? PublishResult.confirmed(acks.size()) : PublishResult.rejected(acks.size(), refused);
    }

    private PublishResult publishCore(Connection c, String subject, List<Event> events) throws InterruptedException {
        int published = 0;
        String refused = null;
        for (Event event : events) {
            try {
                c.publish(message(subject, event));
                published++;
            } catch (IllegalArgumentException e) {
                refused = "event " + event.id() + " cannot be published to NATS: " + e.getMessage();
                break;
            } catch (IllegalStateException e) {
                return PublishResult.failed(0, "NATS connection to " + config.endpoint() + ": " + e.getMessage(), e);
            }
        }
        try {
            c.flush(config.publishTimeout());
        } catch (TimeoutException | IllegalStateException e) {
            return PublishResult.failed(
                    0,
                    "NATS at " + config.endpoint() + " did not answer within "
                            + config.publishTimeout().toMillis() + " ms",
                    e);
        }
        return refused == null ? PublishResult.confirmed(published) : PublishResult.rejected(published, refused);
    }

    /** The message of one event: subject, headers and the payload. */
    static NatsMessage message(String subject, Event event) {
        Headers headers = new Headers();
        add(headers, HEADER_EVENT_ID, event.id());
        add(headers, HEADER_SOURCE, event.source());
        add(headers, HEADER_CHANNEL, event.channel());
        if (event.routingKey() != null) {
            add(headers, HEADER_ROUTING_KEY, event.routingKey());
        }
        if (event.contentType() != null) {
            add(headers, HEADER_CONTENT_TYPE, event.contentType());
        }
        event.headers().forEach((name, value) -> add(headers, name, value));
        return NatsMessage.builder()
                .subject(subject)
                .headers(headers)
                .data(event.payload())
                .build();
    }

    /** Adds a header, its value encoded as {@link HeaderValues} says when NATS cannot carry it as it is. */
    private static void add(Headers headers, String name, String value) {
        headers.add(name, HeaderValues.encode(value));
    }

    private static String describe(Throwable e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** Closes the connection (acks already received are not affected). Idempotent; failures are logged. */
    @Override
    public void close() {
        Connection c;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            c = connection;
        }
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("Closing the NATS connection to {} failed: {}", config.endpoint(), describe(e));
        }
    }

    @Override
    public String toString() {
        return "NatsSink{" + config + '}';
    }
}
