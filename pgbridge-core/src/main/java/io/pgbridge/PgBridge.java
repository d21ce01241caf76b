package io.pgbridge;

import io.pgbridge.internal.Assembly;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.KnownSettings;
import io.pgbridge.internal.pipeline.FailurePolicy;
import io.pgbridge.internal.pipeline.Pipeline;
import io.pgbridge.internal.wal.WalSource;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import io.pgbridge.spi.support.NamedThreadFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves events from PostgreSQL to brokers: sources read (NOTIFY, WAL, outbox), routes pick targets, sinks publish and
 * confirm, and positions are acknowledged back to PostgreSQL only once every sink confirmed.
 *
 * <pre>{@code
 * try (PgBridge bridge = PgBridge.builder()
 *         .postgres("postgresql://app:secret@localhost:5432/app")
 *         .upstream("amqp://guest:guest@localhost:5672/%2f")
 *         .routes("events->exchange:amq.topic, jobs->queue:jobs")
 *         .build()) {
 *     bridge.start();
 *     ...
 * }
 * }</pre>
 *
 * <p>Immutable and thread-safe: the builder's later edits do not reach a built bridge. Lifecycle: {@link #start()}
 * once; {@link #close()} any number of times from any thread. Closing stops intake, waits up to
 * {@code shutdown.timeout-ms} for in-flight events to be confirmed, acknowledges the final position to PostgreSQL,
 * then releases connections. Events not confirmed by then stay unacknowledged and are read again on the next start
 * (WAL, outbox).
 */
public final class PgBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgBridge.class);

    /** Where a bridge is in its life. */
    public enum State {
        NEW,
        STARTING,
        RUNNING,
        STOPPING,
        CLOSED,
        /** A source or sink failed for good; see {@link #failure()}. The bridge closed itself. */
        FAILED
    }

    private final Assembly parts;
    private final DeadLetterHandler deadLetters;
    private final Object meterRegistry; // a Micrometer MeterRegistry or null; Object keeps Micrometer optional
    private final Object lock = new Object();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private State state = State.NEW;
    private Throwable failure;
    private Pipeline pipeline;
    private final List<EventSource> started = new ArrayList<>();

    /**
     * @param deadLetters the builder's handler, or {@code null}
     * @param meterRegistry the builder's Micrometer registry, or {@code null}
     */
    private PgBridge(Assembly parts, DeadLetterHandler deadLetters, Object meterRegistry) {
        this.parts = parts;
        this.deadLetters = deadLetters;
        this.meterRegistry = meterRegistry;
    }

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Connects the sinks, then the sources, and returns once every source is reading.
     *
     * @throws IllegalStateException when called more than once
     * @throws ConnectionException when PostgreSQL or a broker cannot be reached; nothing is left running
     * @throws SchemaException when a database prerequisite is unmet
     */
    public void start() {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("start() can be called once; the bridge is " + state);
            }
            state = State.STARTING;
        }
        try {
            for (Sink sink : distinctSinks()) {
                sink.start();
            }
            Pipeline p = new Pipeline(
                    parts.routes,
                    parts.sinkByRoute::get,
                    parts.catchAllBySource,
                    FailurePolicy.of(deadLetters, parts.deadLetterTarget, parts.sources),
                    parts.options,
                    role -> new NamedThreadFactory(role, parts.threadFactory),
                    meterRegistry,
                    parts.name);
            synchronized (lock) {
                pipeline = p;
            }
            for (EventSource source : parts.sources) {
                ThreadFactory threads = new NamedThreadFactory(source.name(), parts.threadFactory);
                SourceContext context = p.attach(source, threads, cause -> failed(source, cause));
                if (source instanceof WalSource wal) {
                    wal.onBackfill(table -> p.backfillMeters(source.name(), table, () -> wal.backfillProgress(table)));
                    wal.onSnapshot(() -> p.snapshotMeters(source.name(), wal::snapshotProgress));
                }
                synchronized (lock) {
                    started.add(source);
                }
                source.start(context);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutdown(State.CLOSED);
            throw new PgBridgeException("Interrupted while starting", e);
        } catch (RuntimeException e) {
            shutdown(State.CLOSED);
            throw e;
        }
        synchronized (lock) {
            if (state == State.STARTING) {
                state = State.RUNNING;
                log.info(
                        "pgbridge running: {} route(s), sources {}, sinks {}",
                        parts.routes.size(),
                        sourceNames(),
                        distinctSinks().stream().map(Sink::name).toList());
                return;
            }
        }
        throw new IllegalStateException("the bridge was closed while starting");
    }

    private void failed(EventSource source, Throwable cause) {
        log.error("Source {} failed for good; closing the bridge", source.name(), cause);
        synchronized (lock) {
            if (failure == null) {
                failure = cause;
            }
        }
        Thread closer = new NamedThreadFactory("closer", parts.threadFactory).newThread(() -> shutdown(State.FAILED));
        closer.start();
    }

    /** Stops intake, drains in-flight events, acknowledges, and releases connections. Idempotent, any thread. */
    @Override
    public void close() {
        shutdown(State.CLOSED);
    }

    private void shutdown(State finalState) {
        Pipeline p;
        List<EventSource> sources;
        boolean failedStart;
        synchronized (lock) {
            if (state == State.CLOSED || state == State.FAILED || state == State.STOPPING) {
                if (state == State.STOPPING) {
                    awaitQuietly();
                }
                return;
            }
            boolean wasNew = state == State.NEW;
            failedStart = state == State.STARTING;
            state = State.STOPPING;
            p = pipeline;
            sources = new ArrayList<>(started);
            if (wasNew) {
                closeSinks();
                state = finalState;
                terminated.countDown();
                return;
            }
        }
        Duration timeout = parts.shutdownTimeout;
        for (EventSource s : sources) {
            try {
                s.stop();
            } catch (RuntimeException e) {
                log.warn("Stopping source {} failed", s.name(), e);
            }
        }
        if (p != null) {
            try {
                if (!p.drain(timeout)) {
                    warnUnconfirmed(p, timeout);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (EventSource s : sources) {
            try {
                s.close();
            } catch (RuntimeException e) {
                log.warn("Closing source {} failed", s.name(), e);
            }
        }
        if (p != null) {
            try {
                p.shutdown(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeSinks();
        synchronized (lock) {
            state = finalState;
        }
        terminated.countDown();
        if (failedStart) {
            // start() throws, and its caller reports why: a line here would come first and say less
            log.debug("pgbridge closed after a failed start");
        } else {
            log.info("pgbridge {}", finalState == State.FAILED ? "failed and closed" : "closed");
        }
    }

    /** What becomes of the events still unconfirmed at shutdown depends on each source's guarantee: say which. */
    private static void warnUnconfirmed(Pipeline p, Duration timeout) {
        for (SourceStats source : p.sourceStats()) {
            if (source.unsettled() == 0) {
                continue;
            }
            if (source.guarantee() == DeliveryGuarantee.AT_MOST_ONCE) {
                log.warn(
                        "{} event(s) of source {} were not confirmed within {} ms and are lost: {} is at most once",
                        source.unsettled(),
                        source.name(),
                        timeout.toMillis(),
                        source.name());
            } else {
                log.warn(
                        "{} event(s) of source {} were not confirmed within {} ms; they stay unacknowledged and are"
                                + " read again on the next start",
                        source.unsettled(),
                        source.name(),
                        timeout.toMillis());
            }
        }
        for (RouteStats route : p.routeStats()) {
            if (route.state() != RouteState.DELIVERING) {
                log.warn(
                        "Route {} was {} since {} ({} attempts): {}",
                        route.route(),
                        route.state(),
                        route.since(),
                        route.attempts(),
                        route.lastError());
            }
        }
    }

    private void awaitQuietly() {
        // Another thread is closing: close() returns once it is done, as callers expect.
        try {
            terminated.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeSinks() {
        for (Sink sink : distinctSinks()) {
            try {
                sink.close();
            } catch (RuntimeException e) {
                log.warn("Closing sink {} failed", sink.name(), e);
            }
        }
    }

    private List<Sink> distinctSinks() {
        Map<Sink, Boolean> distinct = new IdentityHashMap<>();
        List<Sink> out = new ArrayList<>();
        for (Sink s : parts.sinks.values()) {
            if (distinct.put(s, Boolean.TRUE) == null) {
                out.add(s);
            }
        }
        return out;
    }

    private List<String> sourceNames() {
        return parts.sources.stream().map(EventSource::name).toList();
    }

    /**
     * Blocks until the bridge is closed or failed.
     *
     * @return whether it terminated within the timeout
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public State state() {
        synchronized (lock) {
            return state;
        }
    }

    /** Why the bridge failed, or {@code null}. */
    public Throwable failure() {
        synchronized (lock) {
            return failure;
        }
    }

    /** The bridge's name ({@code bridge.name}, default {@code pgbridge}): the {@code bridge} tag of its meters. */
    public String name() {
        return parts.name;
    }

    /** The routes, in configuration order. */
    public List<Route> routes() {
        return parts.routes;
    }

    /**
     * Starts an online backfill of every row of {@code table}: {@link #backfill(String, String)} without a filter.
     *
     * @throws ConfigurationException as {@link #backfill(String, String)}
     */
    public BackfillTask backfill(String table) {
        return backfill(table, null);
    }

    /**
     * Starts an online backfill of {@code table} on the WAL source while streaming goes on: the rows matching {@code
     * filter} are sent again as {@code op: "r"} events through the table's route, chunk by chunk in primary-key order
     * between watermarks, so that the last event for every row carries its latest committed value (see {@code
     * docs/wal.md}, "Online backfill"). Its progress is in {@link BridgeStats#backfills()} and the logs; it resumes from its
     * last confirmed chunk after a restart, until it is done or {@linkplain BackfillTask#cancel() cancelled}. Returns
     * at once; the backfill runs on a thread of its own ({@code pgbridge-wal-backfill-<slot>}). From outside the
     * process, {@code pgbridge backfill} asks the same of a running bridge through the table of {@code
     * wal.backfill-requests}, which the bridge polls.
     *
     * @param table {@code schema.table}, a table a WAL route takes; it needs a primary key, and REPLICA IDENTITY DEFAULT
     *     or FULL
     * @param filter a SQL condition on the table's columns ({@code "created_at > now() - interval '1 day'"}), or {@code
     *     null} for every row; it is SQL written by the application, run as it is: never pass user input
     * @throws ConfigurationException when there is no WAL source with pgoutput, no route takes the table, or a
     *     backfill of it runs already
     * @throws SchemaException when the table cannot be backfilled: missing, without a primary key, another replica
     *     identity, or a filter that is not valid SQL for it
     * @throws IllegalStateException when the bridge is not running
     */
    public BackfillTask backfill(String table, String filter) {
        Objects.requireNonNull(table, "table");
        if (table.indexOf('.') < 1) {
            throw new ConfigurationException("backfill table '" + table + "' must be schema.table, e.g. public.orders");
        }
        if (state() != State.RUNNING) {
            throw new IllegalStateException("backfill needs a running bridge; it is " + state());
        }
        for (EventSource source : parts.sources) {
            if (source instanceof WalSource wal) {
                return wal.backfill(table, filter == null || filter.isBlank() ? null : filter);
            }
        }
        throw new ConfigurationException("backfill needs the WAL source: route " + table + " (its channel is "
                + "schema.table) so that the bridge streams it");
    }

    /** A snapshot of the pipeline's counters; all zero before {@link #start()}. */
    public BridgeStats stats() {
        Pipeline p;
        synchronized (lock) {
            p = pipeline;
        }
        Map<String, Long> lag = new LinkedHashMap<>();
        for (EventSource source : parts.sources) {
            source.lagBytes().ifPresent(bytes -> lag.put(source.name(), bytes));
        }
        if (p == null) {
            return new BridgeStats(0, 0, 0, 0, 0, 0, 0, lag, List.of(), List.of(), List.of(), List.of());
        }
        List<BackfillProgress> snapshots = new ArrayList<>();
        List<BackfillProgress> backfills = new ArrayList<>();
        for (EventSource source : parts.sources) {
            if (source instanceof WalSource wal) {
                BackfillProgress snapshot = wal.snapshotProgress();
                if (snapshot != null) {
                    snapshots.add(snapshot);
                }
                backfills.addAll(wal.backfills());
            }
        }
        var s = p.stats();
        return new BridgeStats(
                s.received(),
                s.delivered(),
                s.retries(),
                s.deadLettered(),
                s.unrouted(),
                p.inFlightEvents(),
                p.inFlightBytes(),
                lag,
                p.routeStats(),
                p.sourceStats(),
                snapshots,
                backfills);
    }

    /**
     * Whether the bridge does its job: live (not failed or closed) and ready (running, every source reading with its
     * slot's lag under {@code health.lag-threshold-bytes}, every route delivering), with the reasons when not. See
     * {@link Health}. Never blocks; any thread.
     */
    public Health health() {
        BridgeStats s = stats();
        return new Health(state(), s.sources(), s.routes(), parts.healthLagThresholdBytes, java.time.Instant.now());
    }

    @Override
    public String toString() {
        return "PgBridge{name=" + parts.name + ", state=" + state() + ", routes=" + parts.routes + ", sources="
                + sourceNames() + '}';
    }

    /**
     * Collects settings, routes, sinks and sources; {@link #build()} validates them all and reports every problem at
     * once. Every setter returns this builder. Not thread-safe; each {@code build()} takes a copy, so later edits do
     * not change a bridge already built.
     */
    public static final class Builder {
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final List<Route> routes = new ArrayList<>();
        private final Map<String, Sink> sinks = new LinkedHashMap<>();
        private final List<String> sourceNames = new ArrayList<>();
        private final List<EventSource> sourceInstances = new ArrayList<>();
        private final List<Consumer<PipelineOptions.Builder>> pipeline = new ArrayList<>();
        private final List<Consumer<NotifyOptions.Builder>> notify = new ArrayList<>();
        private final List<Consumer<WalOptions.Builder>> wal = new ArrayList<>();
        private final List<Consumer<OutboxOptions.Builder>> outbox = new ArrayList<>();
        private ThreadFactory threadFactory;
        private DeadLetterHandler deadLetters;
        private Object meterRegistry; // typed Object so that a builder without a registry never loads Micrometer

        private Builder() {}

        /**
         * The bridge's name (setting {@code bridge.name}, default {@code pgbridge}): the {@code bridge} tag of every
         * meter it records in a {@linkplain #meterRegistry registry}. Bridges that share one registry need names of
         * their own: a bridge whose name another running bridge already uses in the registry fails to start.
         *
         * @param name not blank; any characters (a tag value)
         */
        public Builder name(String name) {
            return setting(CoreSettings.BRIDGE_NAME.key(), Objects.requireNonNull(name, "name"));
        }

        /**
         * The database, as {@code postgresql://user:password@host:5432/database} or a {@code jdbc:postgresql:} URL.
         * Required.
         */
        public Builder postgres(String uri) {
            return setting(CoreSettings.POSTGRESQL_URI.key(), uri);
        }

        /** Database user and password, when they are not in the URI. */
        public Builder postgresCredentials(String user, String password) {
            setting(CoreSettings.POSTGRESQL_USER.key(), user);
            return setting(CoreSettings.POSTGRESQL_PASSWORD.key(), password);
        }

        /**
         * The upstream broker; its URI scheme selects the sink provider ({@code amqp}, {@code amqps}, {@code mqtt},
         * {@code redis}, ...), whose module must be on the class path. Without an upstream and without a sink
         * instance, events go to a {@link LoggingSink}.
         */
        public Builder upstream(String uri) {
            return setting(CoreSettings.UPSTREAM_URI.key(), uri);
        }

        /** Adds one route. */
        public Builder route(String channel, Target target) {
            routes.add(Route.of(channel, target));
            return this;
        }

        /** Adds one route. */
        public Builder route(Route route) {
            routes.add(Objects.requireNonNull(route, "route"));
            return this;
        }

        /**
         * Adds the routes of a {@code BRIDGE_CHANNELS} string: {@code channel->kind:name, ...}. Malformed entries are
         * reported by {@link #build()}.
         */
        public Builder routes(String bridgeChannels) {
            return setting(CoreSettings.BRIDGE_CHANNELS.key(), bridgeChannels);
        }

        /** The bridge's only sink (instead of an upstream URI). The bridge starts and closes it. */
        public Builder sink(Sink sink) {
            sinks.put("", Objects.requireNonNull(sink, "sink"));
            return this;
        }

        /** A named sink; routes pick it as {@code channel->name/kind:target}. */
        public Builder sink(String name, Sink sink) {
            if (name == null || name.isEmpty() || name.contains("/") || name.contains(":")) {
                throw new IllegalArgumentException("sink name must be non-empty without '/' or ':'");
            }
            sinks.put(name, Objects.requireNonNull(sink, "sink"));
            return this;
        }

        /**
         * Selects a source by provider name ({@code notify}, {@code wal}, {@code outbox}). Default when none is
         * selected: {@code notify} when a plain channel is routed, {@code wal} when a {@code schema.table} channel or
         * the {@code wal2json} channel is routed.
         */
        public Builder source(String name) {
            sourceNames.add(Objects.requireNonNull(name, "name"));
            return this;
        }

        /** Adds a source instance (for sources outside ServiceLoader, or tests). */
        public Builder source(EventSource source) {
            sourceInstances.add(Objects.requireNonNull(source, "source"));
            return this;
        }

        /**
         * Sets any setting by its canonical key (such as {@code amqp.delivery-mode} or {@code
         * notify.poll-interval-ms}), the same keys {@link PgBridgeConfig} reads; a former key (such as {@code
         * delivery-mode}) stands for its current one and logs a deprecation warning once. {@code null} removes it.
         */
        public Builder setting(String key, String value) {
            key = KnownSettings.canonicalKey(Objects.requireNonNull(key, "key"));
            if (value == null) {
                settings.remove(key);
            } else {
                settings.put(key, value);
            }
            return this;
        }

        /** Sets several settings by canonical key. */
        public Builder settings(Map<String, String> values) {
            values.forEach(this::setting);
            return this;
        }

        /**
         * Pipeline options ({@link PipelineOptions}: buffer, delivery threads, batch, strict order, retry backoff,
         * shutdown timeout), applied at {@link #build()} over the string settings, so that values set here win:
         * {@code .pipeline(p -> p.deliveryThreads(8))}. May be called several times; customizers run in order.
         */
        public Builder pipeline(Consumer<PipelineOptions.Builder> options) {
            pipeline.add(Objects.requireNonNull(options, "options"));
            return this;
        }

        /**
         * Options of the {@code notify} source ({@link NotifyOptions}), applied over the {@code notify.*} settings:
         * {@code .notify(n -> n.routingKeyFromPayload(false))}. Used only when that source runs.
         */
        public Builder notify(Consumer<NotifyOptions.Builder> options) {
            notify.add(Objects.requireNonNull(options, "options"));
            return this;
        }

        /**
         * Options of the {@code wal} source ({@link WalOptions}), applied over the {@code wal.*} settings:
         * {@code .wal(w -> w.slot("orders").publication("orders_pub"))}. Used only when that source runs.
         */
        public Builder wal(Consumer<WalOptions.Builder> options) {
            wal.add(Objects.requireNonNull(options, "options"));
            return this;
        }

        /**
         * Options of the {@code outbox} source ({@link OutboxOptions}), applied over the {@code outbox.*} settings:
         * {@code .outbox(o -> o.mode(OutboxOptions.Mode.STREAMING))}. Used only when that source runs.
         */
        public Builder outbox(Consumer<OutboxOptions.Builder> options) {
            outbox.add(Objects.requireNonNull(options, "options"));
            return this;
        }

        /** Same as {@code pipeline(p -> p.bufferMaxEvents(events))}. */
        public Builder bufferMaxEvents(int events) {
            return pipeline(p -> p.bufferMaxEvents(events));
        }

        /** Same as {@code pipeline(p -> p.bufferMaxBytes(bytes))}. */
        public Builder bufferMaxBytes(long bytes) {
            return pipeline(p -> p.bufferMaxBytes(bytes));
        }

        /** Same as {@code pipeline(p -> p.deliveryThreads(threads))}. */
        public Builder deliveryThreads(int threads) {
            return pipeline(p -> p.deliveryThreads(threads));
        }

        /** Same as {@code pipeline(p -> p.maxBatchSize(events))}. */
        public Builder maxBatchSize(int events) {
            return pipeline(p -> p.maxBatchSize(events));
        }

        /**
         * Same as {@code pipeline(p -> p.maxBatchesInFlight(batches))}; see {@link
         * PipelineOptions.Builder#maxBatchesInFlight}.
         */
        public Builder maxBatchesInFlight(int batches) {
            return pipeline(p -> p.maxBatchesInFlight(batches));
        }

        /** Same as {@code pipeline(p -> p.strictOrder(strict))}; see {@link PipelineOptions.Builder#strictOrder}. */
        public Builder strictOrder(boolean strict) {
            return pipeline(p -> p.strictOrder(strict));
        }

        /** Same as {@code pipeline(p -> p.retryBackoff(initial, max))}. */
        public Builder retryBackoff(Duration initial, Duration max) {
            return pipeline(p -> p.retryBackoff(initial, max));
        }

        /** Same as {@code pipeline(p -> p.shutdownTimeout(timeout))}. */
        public Builder shutdownTimeout(Duration timeout) {
            return pipeline(p -> p.shutdownTimeout(timeout));
        }

        /** Creates every thread the bridge starts; pgbridge still names them {@code pgbridge-<role>-<n>}. */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * Where events a sink refused for good (or a source could not decode) go, for every source. Without it: the
         * {@code dead-letter.target} on the route's own sink when set, else the source's own durable place when it has
         * one (the outbox's {@code dead_letters} table, {@code outbox.dead-letter-table}), else for NOTIFY (at most
         * once) a log line at ERROR (without payload); else (WAL, outbox) the route halts: it retries the event at the
         * longest backoff and shows {@link RouteState#HALTED} until an operator acts. A handler that throws makes
         * the event be retried. Called on a delivery thread; must be thread-safe.
         */
        public Builder deadLetterHandler(DeadLetterHandler handler) {
            this.deadLetters = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Records the bridge's metrics in a Micrometer registry: events received, delivered, retried, failed and
         * dead-lettered, the buffer, commit-to-confirm and sink confirm latencies, slot lag, and source and route
         * states (names, types, units and tags in {@code docs/operations.md}). The meters are registered when the
         * bridge starts and removed when it closes. Without a registry (the default) nothing is recorded, and
         * {@code micrometer-core} (an optional dependency of pgbridge-core) need not be on the class path. Every meter
         * carries the tag {@code bridge}, the bridge's {@linkplain #name name}: several bridges can share one
         * registry when each has a name of its own (one whose name a running bridge already uses there fails to
         * start).
         *
         * @param registry the registry, such as a {@code PrometheusMeterRegistry}; never {@code null}
         */
        public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
            this.meterRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Validates everything and creates the bridge (without connecting).
         *
         * @throws ConfigurationException listing every problem: key, value (secrets redacted), rule
         */
        public PgBridge build() {
            Assembly.Input in = new Assembly.Input();
            in.settings = Settings.of(settings);
            in.routes.addAll(routes);
            in.sinks.putAll(sinks);
            in.sourceNames.addAll(sourceNames);
            in.sourceInstances.addAll(sourceInstances);
            in.threadFactory = threadFactory;
            in.pipeline.addAll(pipeline);
            in.notify.addAll(notify);
            in.wal.addAll(wal);
            in.outbox.addAll(outbox);
            Assembly parts = Assembly.build(in);
            return new PgBridge(parts, deadLetters, meterRegistry);
        }

        /** Lists the keys set, never their values. */
        @Override
        public String toString() {
            return "PgBridge.Builder{settings=" + settings.keySet() + ", routes=" + routes + ", sinks=" + sinks.keySet()
                    + ", sources=" + sourceNames + '}';
        }
    }
}
