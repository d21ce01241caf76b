package io.pgbridge.internal;

import io.pgbridge.ConfigurationException;
import io.pgbridge.LoggingSink;
import io.pgbridge.NotifyOptions;
import io.pgbridge.OutboxOptions;
import io.pgbridge.PipelineOptions;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.config.OptionsBinder;
import io.pgbridge.internal.config.PostgresUri;
import io.pgbridge.internal.config.RouteParser;
import io.pgbridge.internal.notify.NotifySourceProvider;
import io.pgbridge.internal.outbox.OutboxSourceProvider;
import io.pgbridge.internal.pipeline.Pipeline;
import io.pgbridge.internal.wal.WalSourceProvider;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.NamedThreadFactory;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Redaction;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import io.pgbridge.spi.SourceConfig;
import io.pgbridge.spi.SourceProvider;
import io.pgbridge.spi.UpstreamSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what a builder collected into validated, created parts: routes, sinks, sources and pipeline options. Every
 * problem is collected and reported at once; nothing connects here.
 */
public final class Assembly {
    private static final Logger log = LoggerFactory.getLogger(Assembly.class);
    private static final String DEFAULT_SINK = "";
    private static final String WAL_CHANNEL = "wal2json";
    /** RFC 3986 scheme; the sink's own client parses the rest of its URI. */
    private static final Pattern SCHEME = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*):");

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

    public final List<Route> routes;
    public final Map<String, Sink> sinks;
    public final Map<Route, Sink> sinkByRoute;
    public final List<EventSource> sources;
    public final Map<String, String> catchAllBySource;
    /** Where refused events go on a route's own sink ({@code dead-letter.target}), or {@code null}. */
    public final Target deadLetterTarget;

    public final Pipeline.Options options;
    public final Duration shutdownTimeout;
    public final ThreadFactory threadFactory;

    private Assembly(
            List<Route> routes,
            Map<String, Sink> sinks,
            Map<Route, Sink> sinkByRoute,
            List<EventSource> sources,
            Map<String, String> catchAllBySource,
            Target deadLetterTarget,
            Pipeline.Options options,
            Duration shutdownTimeout,
            ThreadFactory threadFactory) {
        this.routes = routes;
        this.sinks = sinks;
        this.sinkByRoute = sinkByRoute;
        this.sources = sources;
        this.catchAllBySource = catchAllBySource;
        this.deadLetterTarget = deadLetterTarget;
        this.options = options;
        this.shutdownTimeout = shutdownTimeout;
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

        List<Route> routes = routes(in, settings, problems);
        PostgresConnector postgres = postgres(settings, problems);
        Map<String, Sink> sinks = sinks(in, settings, problems);
        Map<Route, Sink> sinkByRoute = bindRoutes(routes, sinks, problems);
        Target deadLetterTarget = deadLetterTarget(settings, sinkByRoute, problems);
        Map<String, String> catchAll = new LinkedHashMap<>();
        List<EventSource> sources = sources(in, settings, routes, postgres, catchAll, problems);
        int laneBatch = laneBatch(pipeline, problems);

        problems.throwIfAny();
        Pipeline.Options options = new Pipeline.Options(
                pipeline.bufferMaxEvents(),
                pipeline.bufferMaxBytes(),
                pipeline.deliveryThreads(),
                laneBatch,
                pipeline.retryInitialBackoff(),
                pipeline.retryMaxBackoff());
        return new Assembly(
                List.copyOf(routes),
                sinks,
                sinkByRoute,
                List.copyOf(sources),
                Map.copyOf(catchAll),
                deadLetterTarget,
                options,
                pipeline.shutdownTimeout(),
                in.threadFactory);
    }

    /** The settings {@link OptionsBinder#pipeline} checks and binds. */
    private static final List<Setting> PIPELINE = List.of(
            CoreSettings.BUFFER_MAX_EVENTS,
            CoreSettings.BUFFER_MAX_BYTES,
            CoreSettings.DELIVERY_THREADS,
            CoreSettings.DELIVERY_MAX_BATCH,
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
            problems.add(
                    CoreSettings.DELIVERY_MAX_BATCH,
                    Integer.toString(pipeline.maxBatchSize()),
                    "contradicts " + CoreSettings.DELIVERY_STRICT_ORDER.envName()
                            + "=true, which keeps one event in flight per route: unset it or set it to 1");
        }
        return 1;
    }

    private static List<Route> routes(Input in, Settings settings, Problems problems) {
        List<Route> routes = new ArrayList<>();
        String text = settings.string(CoreSettings.BRIDGE_CHANNELS);
        if (text != null) {
            try {
                routes.addAll(RouteParser.parse(CoreSettings.BRIDGE_CHANNELS.envName(), text));
            } catch (ConfigurationException e) {
                problems.addAll(e);
            }
        }
        routes.addAll(in.routes);
        if (routes.isEmpty() && text == null) {
            problems.add(CoreSettings.BRIDGE_CHANNELS.envName()
                    + " is missing: no routes; set it to channel->kind:name, ... (for example "
                    + "events->exchange:amq.topic) or add routes with route(...)");
        }
        Set<Route> seen = new LinkedHashSet<>();
        for (Route r : routes) {
            String problem = channelProblem(r.channel());
            if (problem != null) {
                problems.add("route '" + r + "': " + problem);
            }
            if (!seen.add(r)) {
                problems.add("route '" + r + "' is given twice; each event would be delivered twice");
            }
        }
        return List.copyOf(seen);
    }

    /** A channel is a NOTIFY channel or outbox channel (an identifier), schema.table for WAL, or wal2json. */
    static String channelProblem(String channel) {
        int dot = channel.indexOf('.');
        if (dot < 0) {
            return Identifiers.problem("channel '" + channel + "'", channel);
        }
        String schema = channel.substring(0, dot);
        String table = channel.substring(dot + 1);
        String p = Identifiers.problem("schema '" + schema + "' of channel '" + channel + "'", schema);
        if (p == null) {
            p = Identifiers.problem("table '" + table + "' of channel '" + channel + "'", table);
        }
        return p;
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

    private static Map<String, Sink> sinks(Input in, Settings settings, Problems problems) {
        Map<String, Sink> sinks = new LinkedHashMap<>(in.sinks);
        String uri = settings.string(CoreSettings.UPSTREAM_URI);
        String name = settings.string(CoreSettings.UPSTREAM);
        if (uri == null && name == null) {
            if (sinks.isEmpty()) {
                log.info("No upstream configured; events go to the logging sink (JSON lines on standard output)");
                sinks.put(DEFAULT_SINK, new LoggingSink());
            }
            return sinks;
        }
        if (sinks.containsKey(DEFAULT_SINK)) {
            problems.add("both a sink instance and " + CoreSettings.UPSTREAM_URI.envName()
                    + " are given; name one of them with sink(name, sink)");
            return sinks;
        }
        String scheme = null;
        if (uri != null) {
            Matcher m = SCHEME.matcher(uri.trim());
            scheme = m.lookingAt() ? m.group(1) : null;
            if (scheme == null) {
                problems.add(Settings.problem(
                        CoreSettings.UPSTREAM_URI,
                        uri,
                        "has no scheme; write it as scheme://host:port, e.g. amqp://localhost:5672"));
                return sinks;
            }
        }
        String wantedName = name == null ? null : name.trim().toLowerCase(Locale.ROOT);
        String wantedScheme = scheme == null ? null : scheme.toLowerCase(Locale.ROOT);
        String what = wantedName != null
                ? CoreSettings.UPSTREAM.envName() + "='" + wantedName + "'"
                : CoreSettings.UPSTREAM_URI.envName() + "='" + Redaction.redact(uri) + "' (scheme " + wantedScheme
                        + ")";
        SinkProvider provider;
        try {
            provider = Providers.selectOne(
                    Providers.load(SinkProvider.class),
                    p -> wantedName != null
                            ? p.name().equals(wantedName)
                            : p.schemes().contains(wantedScheme),
                    what,
                    p -> p.name() + " " + p.schemes());
        } catch (ConfigurationException e) {
            problems.addAll(e);
            return sinks;
        }
        if (wantedName != null && wantedScheme != null && !provider.schemes().contains(wantedScheme)) {
            problems.add(Settings.problem(
                    CoreSettings.UPSTREAM_URI,
                    uri,
                    "scheme " + wantedScheme + " does not fit upstream " + provider.name() + " " + provider.schemes()));
            return sinks;
        }
        int before = problems.size();
        problems.check(settings, provider.settings());
        if (problems.size() > before) {
            return sinks;
        }
        ThreadFactory threads = new NamedThreadFactory(provider.name(), in.threadFactory);
        // The sink sees its own settings and the upstream credentials, never the database's.
        List<Setting> own = new ArrayList<>(provider.settings());
        own.addAll(List.of(UpstreamSettings.URI, UpstreamSettings.USERNAME, UpstreamSettings.PASSWORD));
        SinkConfig config = SinkConfig.of(uri, settings.only(own), threads);
        try {
            sinks.put(DEFAULT_SINK, provider.create(config));
        } catch (ConfigurationException e) {
            problems.addAll(e);
        } catch (RuntimeException e) {
            problems.add("sink " + provider.name() + " could not be created: " + Redaction.redact(e.getMessage()));
        }
        return sinks;
    }

    private static Map<Route, Sink> bindRoutes(List<Route> routes, Map<String, Sink> sinks, Problems problems) {
        Map<Route, Sink> byRoute = new LinkedHashMap<>();
        if (sinks.isEmpty()) {
            return byRoute;
        }
        for (Route r : routes) {
            Target t = r.target();
            Sink sink;
            if (t.sink() != null) {
                sink = sinks.get(t.sink());
                if (sink == null) {
                    problems.add("route '" + r + "' names sink '" + t.sink() + "', but the sinks are "
                            + sinks.keySet().stream()
                                    .map(k -> k.isEmpty() ? "(unnamed)" : k)
                                    .collect(Collectors.toList()));
                    continue;
                }
            } else if (sinks.size() == 1) {
                sink = sinks.values().iterator().next();
            } else if (sinks.containsKey(DEFAULT_SINK)) {
                sink = sinks.get(DEFAULT_SINK);
            } else {
                problems.add("route '" + r + "' names no sink, and there are several: " + sinks.keySet()
                        + "; write it as channel->sink/kind:name");
                continue;
            }
            Set<String> kinds = sink.targetKinds();
            if (!kinds.isEmpty() && !kinds.contains(t.kind())) {
                problems.add("route '" + r + "': target kind '" + t.kind() + "' is unknown to sink " + sink.name()
                        + "; it knows " + kinds.stream().sorted().collect(Collectors.joining(", ")));
                continue;
            }
            for (String p : sink.validateTarget(t)) {
                problems.add("route '" + r + "': " + p);
            }
            byRoute.put(r, sink);
        }
        return byRoute;
    }

    /** {@code dead-letter.target} as a target every routed sink understands, or {@code null} when not set. */
    private static Target deadLetterTarget(Settings settings, Map<Route, Sink> sinkByRoute, Problems problems) {
        String text = settings.string(CoreSettings.DEAD_LETTER_TARGET);
        if (text == null) {
            return null;
        }
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.trim().length() - 1) {
            problems.add(Settings.problem(
                    CoreSettings.DEAD_LETTER_TARGET,
                    text,
                    "expected kind:name on the routes' sink, for example queue:pgbridge.dead-letters"));
            return null;
        }
        Target target = Target.of(
                text.substring(0, colon).trim(), text.substring(colon + 1).trim());
        Set<Sink> checked = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Sink sink : sinkByRoute.values()) {
            if (!checked.add(sink)) {
                continue;
            }
            Set<String> kinds = sink.targetKinds();
            if (!kinds.isEmpty() && !kinds.contains(target.kind())) {
                problems.add(Settings.problem(
                        CoreSettings.DEAD_LETTER_TARGET,
                        text,
                        "target kind '" + target.kind() + "' is unknown to sink " + sink.name() + "; it knows "
                                + kinds.stream().sorted().collect(Collectors.joining(", "))));
                continue;
            }
            for (String p : sink.validateTarget(target)) {
                problems.add(Settings.problem(CoreSettings.DEAD_LETTER_TARGET, text, p));
            }
        }
        return target;
    }

    /**
     * The sources that serve the routed channels when none is selected: {@code notify} for plain channels,
     * {@code wal} for {@code schema.table} channels and the seed's {@code wal2json}; {@code notify} when nothing is
     * routed (the missing routes are reported anyway).
     */
    static List<String> defaultSources(Set<String> channels) {
        boolean plain = false;
        boolean wal = false;
        for (String channel : channels) {
            if (channel.equals(WAL_CHANNEL) || channel.indexOf('.') > 0) {
                wal = true;
            } else {
                plain = true;
            }
        }
        List<String> names = new ArrayList<>();
        if (plain || !wal) {
            names.add("notify");
        }
        if (wal) {
            names.add("wal");
        }
        return names;
    }

    private static List<EventSource> sources(
            Input in,
            Settings settings,
            List<Route> routes,
            PostgresConnector postgres,
            Map<String, String> catchAll,
            Problems problems) {
        Set<String> channels = new LinkedHashSet<>();
        for (Route r : routes) {
            channels.add(r.channel());
        }
        List<String> names = new ArrayList<>(in.sourceNames);
        String configured = settings.string(CoreSettings.SOURCES);
        if (configured != null) {
            for (String n : configured.split(",")) {
                if (!n.isBlank()) {
                    names.add(n.trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        if (names.isEmpty() && in.sourceInstances.isEmpty()) {
            names.addAll(defaultSources(channels));
        }
        List<SourceProvider> available = Providers.load(SourceProvider.class);
        List<EventSource> sources = new ArrayList<>(in.sourceInstances);
        Set<String> served = new LinkedHashSet<>();
        for (String name : new LinkedHashSet<>(names)) {
            SourceProvider provider;
            try {
                provider = Providers.selectOne(
                        available,
                        p -> p.name().equals(name),
                        CoreSettings.SOURCES.envName() + " entry '" + name + "'",
                        SourceProvider::name);
            } catch (ConfigurationException e) {
                problems.addAll(e);
                continue;
            }
            served.addAll(provider.channelsServed(channels));
            Settings own = settings.only(provider.settings());
            SourceConfig config = new SourceConfig() {
                @Override
                public PostgresConnector postgres() {
                    return postgres;
                }

                @Override
                public Settings settings() {
                    return own;
                }

                @Override
                public Set<String> channels() {
                    return channels;
                }
            };
            EventSource source = problems.collect(() -> create(provider, config, in, settings, problems));
            if (source != null) {
                sources.add(source);
                String all = provider.catchAllChannel();
                if (all != null) {
                    catchAll.put(source.name(), all);
                }
            }
        }
        if (in.sourceInstances.isEmpty()) {
            for (String channel : channels) {
                if (!served.contains(channel) && channelProblem(channel) == null) {
                    problems.add("channel '" + channel + "' is routed, but no selected source produces it (sources: "
                            + names + ")"
                            + (channel.contains(".") || channel.equals(WAL_CHANNEL)
                                    ? "; WAL channels need the wal source (" + CoreSettings.SOURCES.envName()
                                            + "=notify,wal)"
                                    : ""));
                }
            }
        }
        return sources;
    }

    /**
     * Binds the provider's options (the built-in sources get their typed options, from settings and code), then
     * creates the source, which checks what only it can (names, plugin), even when other problems were found, so that
     * all are reported at once; {@code null} when a problem was found or there is no database to read.
     */
    private static EventSource create(
            SourceProvider provider, SourceConfig config, Input in, Settings settings, Problems problems) {
        int before = problems.size();
        EventSource source;
        if (provider instanceof NotifySourceProvider notify) {
            NotifyOptions o = customized(
                    OptionsBinder.notify(settings, problems),
                    in.notify,
                    "notify",
                    problems,
                    NotifyOptions.Builder::build);
            source = o == null ? null : notify.create(config, o);
        } else if (provider instanceof WalSourceProvider wal) {
            WalOptions o = customized(
                    OptionsBinder.wal(settings, problems), in.wal, "wal", problems, WalOptions.Builder::build);
            source = o == null ? null : wal.create(config, o);
        } else if (provider instanceof OutboxSourceProvider outbox) {
            OutboxOptions o = customized(
                    OptionsBinder.outbox(settings, problems),
                    in.outbox,
                    "outbox",
                    problems,
                    OutboxOptions.Builder::build);
            source = o == null ? null : outbox.create(config, o);
        } else {
            problems.check(settings, provider.settings());
            source = problems.size() > before ? null : provider.create(config);
        }
        return problems.size() > before || config.postgres() == null ? null : source;
    }
}
