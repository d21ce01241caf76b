package io.pgbridge.internal.pipeline;

import io.pgbridge.BackfillProgress;
import io.pgbridge.Route;
import io.pgbridge.RouteStats;
import io.pgbridge.SourceStats;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Routes events from sources to ordered lanes, bounds what is in flight, and reports acknowledged positions back to
 * each source. One per bridge.
 */
public final class Pipeline {
    private final InFlightLimit limit;
    private final Router router;
    private final List<Lane> lanes;
    private final List<SourceChannel> channels = new CopyOnWriteArrayList<>();
    private ExecutorService deliveryExecutor; // null when lanes run on a given scheduler
    private ScheduledExecutorService retryScheduler;
    private final PipelineStats stats = new PipelineStats();
    private final Metrics metrics;
    private volatile boolean open = true;

    /** The pipeline's tunables, already validated. */
    public static final class Options {
        final int maxEvents;
        final long maxBytes;
        final int deliveryThreads;
        final int maxBatch;
        final int maxBatchesInFlight;
        final Backoff backoff;

        public Options(
                int maxEvents,
                long maxBytes,
                int deliveryThreads,
                int maxBatch,
                int maxBatchesInFlight,
                Duration initialBackoff,
                Duration maxBackoff) {
            this.maxEvents = maxEvents;
            this.maxBytes = maxBytes;
            this.deliveryThreads = deliveryThreads;
            this.maxBatch = maxBatch;
            this.maxBatchesInFlight = maxBatchesInFlight;
            this.backoff = new Backoff(initialBackoff, maxBackoff);
        }
    }

    /**
     * @param sinkFor the sink of each route
     * @param catchAllBySource channels that take every event of a source, by source name
     * @param threads names and creates every thread (the caller's factory behind pgbridge's names)
     * @param meterRegistry a Micrometer {@code MeterRegistry} the pipeline's meters are registered in (and removed from
     *     at {@link #shutdown}), or {@code null} for none; typed {@code Object} so that Micrometer stays optional
     * @param bridgeName the {@code bridge} tag of every meter; unused without a registry
     * @throws io.pgbridge.ConfigurationException when a running bridge of the same name already records in the
     *     registry
     */
    public Pipeline(
            List<Route> routes,
            Function<Route, Sink> sinkFor,
            Map<String, String> catchAllBySource,
            FailurePolicy failurePolicy,
            Options options,
            Function<String, ThreadFactory> threads,
            Object meterRegistry,
            String bridgeName) {
        this(
                routes,
                sinkFor,
                catchAllBySource,
                failurePolicy,
                options,
                meterRegistry,
                bridgeName,
                Executors.newFixedThreadPool(options.deliveryThreads, threads.apply("delivery")),
                Executors.newSingleThreadScheduledExecutor(threads.apply("retry")));
    }

    private Pipeline(
            List<Route> routes,
            Function<Route, Sink> sinkFor,
            Map<String, String> catchAllBySource,
            FailurePolicy failurePolicy,
            Options options,
            Object meterRegistry,
            String bridgeName,
            ExecutorService deliveryExecutor,
            ScheduledExecutorService retryScheduler) {
        this(routes, sinkFor, catchAllBySource, failurePolicy, options, meterRegistry, bridgeName, new LaneScheduler() {
            @Override
            public void execute(Runnable lane) {
                deliveryExecutor.execute(lane);
            }

            @Override
            public void schedule(Runnable lane, long delayMillis) {
                retryScheduler.schedule(lane, delayMillis, TimeUnit.MILLISECONDS);
            }
        });
        this.deliveryExecutor = deliveryExecutor;
        this.retryScheduler = retryScheduler;
    }

    /** A pipeline whose lanes run on {@code scheduler}; {@link #shutdown} then only closes intake. */
    Pipeline(
            List<Route> routes,
            Function<Route, Sink> sinkFor,
            Map<String, String> catchAllBySource,
            FailurePolicy failurePolicy,
            Options options,
            Object meterRegistry,
            String bridgeName,
            LaneScheduler scheduler) {
        this.limit = new InFlightLimit(options.maxEvents, options.maxBytes);
        // MicrometerMetrics is named only on this branch, so that without a registry Micrometer is never loaded.
        this.metrics = meterRegistry == null ? Metrics.NONE : MicrometerMetrics.bind(meterRegistry, bridgeName, limit);
        List<Lane> lanes = new ArrayList<>();
        for (Route route : routes) {
            Lane lane = new Lane(
                    route,
                    sinkFor.apply(route),
                    failurePolicy,
                    scheduler,
                    options.backoff,
                    options.maxBatch,
                    options.maxBatchesInFlight,
                    stats);
            lane.measure(metrics.route(lane));
            lanes.add(lane);
        }
        this.lanes = List.copyOf(lanes);
        this.router = new Router(lanes, catchAllBySource);
    }

    /** The context one source publishes through. */
    public SourceContext attach(EventSource source, ThreadFactory threadFactory, Consumer<Throwable> onFailure) {
        SourceChannel channel = new SourceChannel(source, this, limit.maxEvents(), threadFactory, onFailure);
        channels.add(channel);
        metrics.source(channel);
        return channel;
    }

    /**
     * Registers the meters of the online backfills of {@code table} on source {@code source} (once per table; later
     * calls for it do nothing); {@code progress} gives its latest backfill, or {@code null}. Any thread.
     */
    public void backfillMeters(String source, String table, Supplier<BackfillProgress> progress) {
        metrics.backfill(source, table, progress);
    }

    /**
     * Registers the meters of the initial snapshot of source {@code source} (once per source; later calls for it do
     * nothing); {@code progress} gives the snapshot, or {@code null}. Any thread.
     */
    public void snapshotMeters(String source, Supplier<BackfillProgress> progress) {
        metrics.snapshot(source, progress);
    }

    /** Waits until every published event is done; returns whether that happened in time. */
    public boolean drain(Duration timeout) throws InterruptedException {
        return limit.awaitEmpty(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops delivery threads (interrupting publishes still waiting on a broker), refuses further events, and removes
     * the pipeline's meters from the registry.
     */
    public void shutdown(Duration timeout) throws InterruptedException {
        open = false;
        try {
            if (deliveryExecutor != null) {
                retryScheduler.shutdownNow();
                deliveryExecutor.shutdownNow();
                deliveryExecutor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } finally {
            metrics.close();
        }
    }

    public int inFlightEvents() {
        return limit.events();
    }

    public long inFlightBytes() {
        return limit.bytes();
    }

    public PipelineStats stats() {
        return stats;
    }

    /** Each route's state and counters, in route order. */
    public List<RouteStats> routeStats() {
        return lanes.stream().map(Lane::stats).toList();
    }

    /** Each attached source's state and counters, in attach order. */
    public List<SourceStats> sourceStats() {
        return channels.stream().map(SourceChannel::stats).toList();
    }

    void ensureOpen() {
        if (!open) {
            throw new IllegalStateException("the bridge is closed");
        }
    }

    InFlightLimit limit() {
        return limit;
    }

    Router router() {
        return router;
    }
}
