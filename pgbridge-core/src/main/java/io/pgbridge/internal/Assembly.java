package io.pgbridge.internal;

import io.pgbridge.ConfigurationException;
import io.pgbridge.NotifyOptions;
import io.pgbridge.OutboxOptions;
import io.pgbridge.PipelineOptions;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.OptionsBinder;
import io.pgbridge.internal.config.PostgresUri;
import io.pgbridge.internal.pipeline.Pipeline;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Turns what a builder collected into validated, created parts: the pipeline options and the database here; the
 * route table ({@link RouteTable}), the sinks ({@link SinkSelection}) and the sources ({@link SourceSelection}) in
 * classes of their own. Every problem is collected and reported at once; nothing connects here.
 */
public final class Assembly {
    /** What a builder hands over. */
    public static final class Input {
        public Settings settings = Settings.empty();
        public final List<Route> routes = new ArrayList<>();
        public final Map<String, Sink> sinks = new LinkedHashMap<>(); // "" is the unnamed sink
        public final List<EventSource> sourceInstances = new ArrayList<>();
        public final List<String> sourceNames = new ArrayList<>();
        public ThreadFactory threadFactory;
        /** Typed options set in code, applied in order over the values bound from {@link #settings}. */
        public final List<Consumer<PipelineOptions.Builder>> pipeline = new ArrayList<>();

        public final List<Consumer<NotifyOptions.Builder>> notify = new ArrayList<>();
        public final List<Consumer<WalOptions.Builder>> wal = new ArrayList<>();
        public final List<Consumer<OutboxOptions.Builder>> outbox = new ArrayList<>();
    }

    /** {@code bridge.name}: the {@code bridge} tag of the bridge's meters. */
    public final String name;

    public final List<Route> routes;
    public final Map<String, Sink> sinks;
    public final Map<Route, Sink> sinkByRoute;
    public final List<EventSource> sources;
    public final Map<String, String> catchAllBySource;
    /** Where refused events go on a route's own sink ({@code dead-letter.target}), or {@code null}. */
    public final Target deadLetterTarget;

    public final Pipeline.Options options;
    public final Duration shutdownTimeout;
    /** {@code health.lag-threshold-bytes}: {@code PgBridge.health()} reports a source over it as not ready. */
    public final long healthLagThresholdBytes;

    public final ThreadFactory threadFactory;

    private Assembly(
            String name,
            List<Route> routes,
            Map<String, Sink> sinks,
            Map<Route, Sink> sinkByRoute,
            List<EventSource> sources,
            Map<String, String> catchAllBySource,
            Target deadLetterTarget,
            Pipeline.Options options,
            Duration shutdownTimeout,
            long healthLagThresholdBytes,
            ThreadFactory threadFactory) {
        this.name = name;
        this.routes = routes;
        this.sinks = sinks;
        this.sinkByRoute = sinkByRoute;
        this.sources = sources;
        this.catchAllBySource = catchAllBySource;
        this.deadLetterTarget = deadLetterTarget;
        this.options = options;
        this.shutdownTimeout = shutdownTimeout;
        this.healthLagThresholdBytes = healthLagThresholdBytes;
        this.threadFactory = threadFactory;
    }

    /** @throws ConfigurationException with every problem found */
    public static Assembly build(Input in) {
        Problems problems = new Problems();
        Settings settings = in.settings;
        problems.check(
                settings,
                CoreSettings.ALL.stream().filter(s -> !PIPELINE.contains(s)).toList());
        PipelineOptions pipeline = customized(
                OptionsBinder.pipeline(settings, problems),
                in.pipeline,
                "pipeline",
                problems,
                PipelineOptions.Builder::build);

        List<Route> routes = RouteTable.routes(in, settings, problems);
        PostgresConnector postgres = postgres(settings, problems);
        Map<String, Sink> sinks = SinkSelection.sinks(in, settings, problems);
        Map<Route, Sink> sinkByRoute = RouteTable.bind(routes, sinks, problems);
        Target deadLetterTarget = RouteTable.deadLetterTarget(settings, sinkByRoute, problems);
        Map<String, String> catchAll = new LinkedHashMap<>();
        List<EventSource> sources = SourceSelection.sources(in, settings, routes, postgres, catchAll, problems);
        int laneBatch = laneBatch(pipeline, problems);
        int laneWindow = laneWindow(pipeline, laneBatch, problems);
        String name = settings.string(CoreSettings.BRIDGE_NAME);
        if (name.isBlank()) {
            problems.add(CoreSettings.BRIDGE_NAME, name, "must not be blank: it tags every meter of the bridge");
        }

        problems.throwIfAny();
        Pipeline.Options options = new Pipeline.Options(
                pipeline.bufferMaxEvents(),
                pipeline.bufferMaxBytes(),
                pipeline.deliveryThreads(),
                laneBatch,
                laneWindow,
                pipeline.retryInitialBackoff(),
                pipeline.retryMaxBackoff());
        return new Assembly(
                name,
                List.copyOf(routes),
                sinks,
                sinkByRoute,
                List.copyOf(sources),
                Map.copyOf(catchAll),
                deadLetterTarget,
                options,
                pipeline.shutdownTimeout(),
                settings.integer(CoreSettings.HEALTH_LAG_THRESHOLD),
                in.threadFactory);
    }

    /** The settings {@link OptionsBinder#pipeline} checks and binds. */
    private static final List<Setting> PIPELINE = List.of(
            CoreSettings.BUFFER_MAX_EVENTS,
            CoreSettings.BUFFER_MAX_BYTES,
            CoreSettings.DELIVERY_THREADS,
            CoreSettings.DELIVERY_MAX_BATCH,
            CoreSettings.DELIVERY_MAX_BATCHES_IN_FLIGHT,
            CoreSettings.DELIVERY_STRICT_ORDER,
            CoreSettings.RETRY_INITIAL_BACKOFF,
            CoreSettings.RETRY_MAX_BACKOFF,
            CoreSettings.SHUTDOWN_TIMEOUT);

    /**
     * Applies the customizers from code to a builder bound from settings; a value out of range set in code becomes a
     * problem naming the options, so that it is reported with all the others. Returns {@code null} then.
     */
    static <B, O> O customized(
            B bound, List<Consumer<B>> customizers, String what, Problems problems, Function<B, O> build) {
        try {
            customizers.forEach(c -> c.accept(bound));
            return build.apply(bound);
        } catch (IllegalArgumentException e) {
            problems.add(what + " options: " + e.getMessage());
            return null;
        }
    }

    /**
     * The most events a route has with its sink at once: {@code delivery.max-batch}, or 1 under {@code
     * delivery.strict-order} (a lane publishes one batch at a time and the sink returns only once the broker confirmed
     * or refused it, so a batch of one is one event in flight).
     */
    private static int laneBatch(PipelineOptions pipeline, Problems problems) {
        if (pipeline == null) {
            return 1;
        }
        if (!pipeline.strictOrder()) {
            return pipeline.maxBatchSize();
        }
        if (pipeline.isMaxBatchSizeSet() && pipeline.maxBatchSize() != 1) {
            contradictsOneEventInFlight(
                    problems,
                    CoreSettings.DELIVERY_MAX_BATCH,
                    pipeline.maxBatchSize(),
                    CoreSettings.DELIVERY_STRICT_ORDER.envName() + "=true");
        }
        return 1;
    }

    /**
     * The most batches a route has with a sink that pipelines: {@code delivery.max-batches-in-flight}. A route with one
     * event in flight (a lane batch of 1) has one batch in flight whatever it says, so a set value other than 1
     * contradicts that.
     */
    private static int laneWindow(PipelineOptions pipeline, int laneBatch, Problems problems) {
        if (pipeline == null) {
            return 1;
        }
        if (laneBatch == 1 && pipeline.isMaxBatchesInFlightSet() && pipeline.maxBatchesInFlight() != 1) {
            contradictsOneEventInFlight(
                    problems,
                    CoreSettings.DELIVERY_MAX_BATCHES_IN_FLIGHT,
                    pipeline.maxBatchesInFlight(),
                    pipeline.strictOrder()
                            ? CoreSettings.DELIVERY_STRICT_ORDER.envName() + "=true"
                            : CoreSettings.DELIVERY_MAX_BATCH.envName() + "=1");
        }
        return pipeline.maxBatchesInFlight();
    }

    /** {@code setting}, set to {@code value}, contradicts {@code oneEvent}, which keeps one event in flight per route. */
    private static void contradictsOneEventInFlight(Problems problems, Setting setting, int value, String oneEvent) {
        problems.add(
                setting,
                Integer.toString(value),
                "contradicts " + oneEvent + ", which keeps one event in flight per route: unset it or set it to 1");
    }

    private static PostgresConnector postgres(Settings settings, Problems problems) {
        String uri = settings.string(CoreSettings.POSTGRESQL_URI);
        if (uri == null) {
            problems.add(CoreSettings.POSTGRESQL_URI.envName()
                    + " is missing: set it to postgresql://user:password@host:5432/database or a jdbc:postgresql: URL");
            return null;
        }
        try {
            return new PgConnector(
                    PostgresUri.parse(uri),
                    settings.string(CoreSettings.POSTGRESQL_USER),
                    settings.secret(CoreSettings.POSTGRESQL_PASSWORD),
                    settings.string(CoreSettings.POSTGRESQL_APPLICATION_NAME));
        } catch (IllegalArgumentException e) {
            problems.add(Settings.problem(CoreSettings.POSTGRESQL_URI, uri, e.getMessage()));
            return null;
        }
    }
}
