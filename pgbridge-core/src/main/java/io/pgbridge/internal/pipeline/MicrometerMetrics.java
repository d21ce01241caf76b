package io.pgbridge.internal.pipeline;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgbridge.BackfillProgress;
import io.pgbridge.ConfigurationException;
import io.pgbridge.RouteState;
import io.pgbridge.SourceState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The pipeline's meters in a Micrometer {@link MeterRegistry}; the names, types, units and tags are documented in
 * {@code docs/operations.md}. Counters and gauges read the counters the pipeline keeps anyway when the registry is
 * scraped; only the two timers record on the delivery path. The only class of pgbridge that names a Micrometer type
 * (besides {@code PgBridge.Builder#meterRegistry}): it is loaded only when a registry is given.
 */
final class MicrometerMetrics implements Metrics {
    static final String EVENTS = "events";
    static final String BYTES = "bytes";
    static final String ROWS = "rows";
    /** Timers cover broker outages: their histograms reach 10 minutes. */
    private static final Duration LONGEST_EXPECTED = Duration.ofMinutes(10);

    /** The tag that names the bridge on every meter. */
    static final String BRIDGE = "bridge";

    private final MeterRegistry registry;
    private final Tags bridge;
    private final List<Meter> registered = new CopyOnWriteArrayList<>();
    /**
     * The reads whose meters are registered: {@code backfill/<source>/<table>} for a table's backfills, {@code
     * snapshot/<source>} for a source's initial snapshot.
     */
    private final Set<String> reads = ConcurrentHashMap.newKeySet();

    private MicrometerMetrics(MeterRegistry registry, Tags bridge) {
        this.registry = registry;
        this.bridge = bridge;
    }

    /**
     * @param registry a {@link MeterRegistry}; typed {@code Object} so that callers need not load Micrometer
     * @param name the bridge's name, the {@value #BRIDGE} tag of every meter
     * @throws IllegalArgumentException when it is not a Micrometer {@code MeterRegistry}
     * @throws ConfigurationException when a running bridge of that name already records in the registry (Micrometer
     *     would hand this bridge the other one's meters, and its own counts would never show)
     */
    static Metrics bind(Object registry, String name, InFlightLimit limit) {
        if (!(registry instanceof MeterRegistry meters)) {
            throw new IllegalArgumentException("not a Micrometer MeterRegistry: " + registry.getClass());
        }
        if (meters.find("pgbridge.buffer.events").tag(BRIDGE, name).gauge() != null) {
            throw new ConfigurationException("another running bridge named '" + name + "' records its meters in this"
                    + " registry: give each bridge in one registry a name of its own (PgBridge.Builder.name,"
                    + " PGBRIDGE_BRIDGE_NAME, pgbridge.name)");
        }
        MicrometerMetrics metrics = new MicrometerMetrics(meters, Tags.of(BRIDGE, name));
        metrics.add(Gauge.builder("pgbridge.buffer.events", limit, InFlightLimit::events)
                .description("Events between the sources and the sinks' confirmations (bounded by buffer.max-events)")
                .baseUnit(EVENTS)
                .tags(metrics.bridge)
                .register(meters));
        metrics.add(Gauge.builder("pgbridge.buffer.bytes", limit, InFlightLimit::bytes)
                .description("Estimated heap bytes of those events (bounded by buffer.max-bytes)")
                .baseUnit(BYTES)
                .tags(metrics.bridge)
                .register(meters));
        return metrics;
    }

    @Override
    public RouteMetrics route(Lane lane) {
        Tags tags = bridge.and("route", lane.route().toString(), "sink", lane.sinkName());
        add(counter("pgbridge.events.delivered", lane, Lane::deliveredCount, tags, "Events the sink confirmed"));
        add(counter(
                "pgbridge.events.retried",
                lane,
                Lane::retriedCount,
                tags,
                "Failed delivery attempts, each retried after a backoff"));
        add(counter(
                "pgbridge.events.failed",
                lane,
                Lane::refusedCount,
                tags,
                "Events refused for good (by the sink, or undecodable); dead-lettered or halting the route"));
        add(counter(
                "pgbridge.events.dead.lettered",
                lane,
                Lane::deadLetteredCount,
                tags,
                "Events a dead-letter destination took"));
        for (RouteState state : RouteState.values()) {
            add(Gauge.builder("pgbridge.route.state", lane, l -> l.state() == state ? 1 : 0)
                    .description("1 for the route's current state, 0 for the others")
                    .tags(tags)
                    .tag("state", name(state))
                    .register(registry));
        }
        Timer delivery = add(Timer.builder("pgbridge.delivery.latency")
                .description("From the transaction's commit (PostgreSQL's clock) to the broker's confirmation")
                .tags(tags)
                .publishPercentileHistogram()
                .maximumExpectedValue(LONGEST_EXPECTED)
                .register(registry));
        Timer confirm = add(Timer.builder("pgbridge.sink.confirm.latency")
                .description("One publish call to the sink, from the call to the broker's confirmation of its batch")
                .tags(tags)
                .publishPercentileHistogram()
                .maximumExpectedValue(LONGEST_EXPECTED)
                .register(registry));
        return new RouteMetrics() {
            @Override
            public long publishing() {
                return System.nanoTime();
            }

            @Override
            public void published(long started) {
                confirm.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            }

            /**
             * One sample per transaction in the batch, not per event: a transaction's events share its commit time and,
             * confirmed together, their confirmation time, so they all have the same latency; recording it once per
             * run of equal commit times keeps a histogram update (about 300 ns) off every event of a large transaction.
             */
            @Override
            public void confirmed(List<Delivery> batch, int count) {
                Instant now = null;
                Instant last = null;
                for (int i = 0; i < count; i++) {
                    Instant commit = batch.get(i).event.commitTime();
                    if (commit == null || commit.equals(last)) {
                        continue;
                    }
                    last = commit;
                    if (now == null) {
                        now = Instant.now();
                    }
                    long nanos = (now.getEpochSecond() - commit.getEpochSecond()) * 1_000_000_000L
                            + (now.getNano() - commit.getNano());
                    delivery.record(nanos, TimeUnit.NANOSECONDS); // a negative (clock skew) is ignored
                }
            }
        };
    }

    @Override
    public void source(SourceChannel channel) {
        Tags tags = bridge.and("source", channel.source().name());
        add(counter(
                "pgbridge.events.received",
                channel,
                SourceChannel::receivedCount,
                tags,
                "Events the source handed to the pipeline"));
        add(counter(
                "pgbridge.notify.dropped",
                channel,
                SourceChannel::droppedCount,
                tags,
                "Events an at-most-once source (NOTIFY) dropped because the pipeline was full"));
        add(Gauge.builder("pgbridge.slot.lag.bytes", channel, c -> {
                    var lag = c.source().lagBytes();
                    return lag.isPresent() ? lag.getAsLong() : Double.NaN;
                })
                .description("pg_current_wal_lsn() - confirmed_flush_lsn of the source's replication slot"
                        + " (NaN where the source has no slot or has not measured yet)")
                .baseUnit(BYTES)
                .tags(tags)
                .register(registry));
        for (SourceState state : SourceState.values()) {
            add(Gauge.builder("pgbridge.source.state", channel, c -> c.state() == state ? 1 : 0)
                    .description("1 for the source's current state, 0 for the others")
                    .tags(tags)
                    .tag("state", name(state))
                    .register(registry));
        }
    }

    @Override
    public void backfill(String source, String table, Supplier<BackfillProgress> progress) {
        if (reads.add("backfill/" + source + '/' + table)) {
            readGauges(
                    "pgbridge.backfill.",
                    bridge.and("source", source, "table", table),
                    "the table's latest online backfill",
                    "count(*) with its filter",
                    progress);
        }
    }

    @Override
    public void snapshot(String source, Supplier<BackfillProgress> progress) {
        if (reads.add("snapshot/" + source)) {
            readGauges(
                    "pgbridge.snapshot.",
                    bridge.and("source", source),
                    "the initial snapshot",
                    "count(*) of every routed table",
                    progress);
        }
    }

    /**
     * The gauges of a chunked read of tables, an online backfill's or the initial snapshot's: one family per kind
     * ({@code prefix}), the same meters and units in each, so that a dashboard of one reads the other.
     *
     * @param what the read, as the descriptions name it
     * @param counted how its total rows were counted
     */
    private void readGauges(
            String prefix, Tags tags, String what, String counted, Supplier<BackfillProgress> progress) {
        add(readGauge(
                prefix + "rows",
                ROWS,
                tags,
                progress,
                BackfillProgress::rows,
                "Rows " + what + " read so far (across restarts)"));
        add(readGauge(
                prefix + "total.rows",
                ROWS,
                tags,
                progress,
                BackfillProgress::totalRows,
                "Rows to read, counted when " + what + " started (" + counted + "), the base of its percent"));
        add(readGauge(
                prefix + "chunks",
                "chunks",
                tags,
                progress,
                BackfillProgress::chunks,
                "Chunks " + what + " read so far (across restarts)"));
        add(readGauge(
                prefix + "percent",
                "percent",
                tags,
                progress,
                BackfillProgress::percent,
                "Rows read in percent of total rows (100 once done)"));
        add(readGauge(
                prefix + "rate",
                "rows.per.second",
                tags,
                progress,
                BackfillProgress::rowsPerSecond,
                "Rows read per second since this bridge started or resumed " + what));
        for (BackfillProgress.State state : BackfillProgress.State.values()) {
            add(Gauge.builder(prefix + "state", () -> {
                        BackfillProgress p = progress.get();
                        return p != null && p.state() == state ? 1 : 0;
                    })
                    .description("1 for the state of " + what + ", 0 for the others")
                    .tags(tags)
                    .tag("state", name(state))
                    .strongReference(true)
                    .register(registry));
        }
    }

    private Gauge readGauge(
            String name,
            String unit,
            Tags tags,
            Supplier<BackfillProgress> progress,
            ToDoubleFunction<BackfillProgress> value,
            String description) {
        return Gauge.builder(name, () -> {
                    BackfillProgress p = progress.get();
                    return p == null ? Double.NaN : value.applyAsDouble(p);
                })
                .description(description)
                .baseUnit(unit)
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    @Override
    public void close() {
        for (Meter meter : registered) {
            registry.remove(meter);
        }
        registered.clear();
        reads.clear();
    }

    private <T> FunctionCounter counter(
            String name, T owner, ToDoubleFunction<T> count, Tags tags, String description) {
        return FunctionCounter.builder(name, owner, count)
                .description(description)
                .baseUnit(EVENTS)
                .tags(tags)
                .register(registry);
    }

    private <M extends Meter> M add(M meter) {
        registered.add(meter);
        return meter;
    }

    private static String name(Enum<?> state) {
        return state.name().toLowerCase(Locale.ROOT);
    }
}
