package io.pgbridge.internal;

import io.pgbridge.ConfigurationException;
import io.pgbridge.LoggingSink;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import io.pgbridge.spi.UpstreamSettings;
import io.pgbridge.spi.support.NamedThreadFactory;
import io.pgbridge.spi.support.Redaction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the sinks: the instances given in code, else the provider {@code upstream} names or the scheme of
 * {@code upstream.uri} selects, else the logging sink. A provider's sink sees its own settings and {@code upstream.*}
 * only.
 */
final class SinkSelection {
    private static final Logger log = LoggerFactory.getLogger(SinkSelection.class);
    /** The key of the unnamed sink. */
    static final String DEFAULT_SINK = "";
    /** RFC 3986 scheme; the sink's own client parses the rest of its URI. */
    private static final Pattern SCHEME = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*):");

    private SinkSelection() {}

    static Map<String, Sink> sinks(Assembly.Input in, Settings settings, Problems problems) {
        Map<String, Sink> sinks = new LinkedHashMap<>(in.sinks);
        for (String name : NamedSinks.names(settings)) {
            String problem = in.sinks.containsKey(name) ? "is also given as a sink instance in code" : null;
            if (problem == null && (name.contains("/") || name.contains(":"))) {
                problem = "must not hold '/' or ':'";
            }
            if (problem != null) {
                problems.add(CoreSettings.SINKS, settings.string(CoreSettings.SINKS), "sink '" + name + "' " + problem);
                continue;
            }
            Problems own = new Problems();
            Sink sink = fromUpstream(NamedSinks.settingsOf(name, settings), in.threadFactory, own);
            own.list().forEach(p -> problems.add("sink '" + name + "' (" + NamedSinks.envPrefix(name) + "*): " + p));
            if (sink != null) {
                sinks.put(name, sink);
            } else if (own.isEmpty()) {
                problems.add(NamedSinks.envPrefix(name) + "URI is missing: sink '" + name + "' is listed in "
                        + CoreSettings.SINKS.envName() + " but has no URI; set it, e.g. to amqp://localhost:5672");
            }
        }
        boolean upstream = settings.isSet(CoreSettings.UPSTREAM_URI) || settings.isSet(CoreSettings.UPSTREAM);
        if (!upstream) {
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
        Sink sink = fromUpstream(settings, in.threadFactory, problems);
        if (sink != null) {
            sinks.put(DEFAULT_SINK, sink);
        }
        return sinks;
    }

    /**
     * The sink {@code upstream} or the scheme of {@code upstream.uri} selects in these settings, created with its own
     * settings and the upstream credentials only; {@code null} when neither is set or a problem was found.
     */
    private static Sink fromUpstream(Settings settings, ThreadFactory threadFactory, Problems problems) {
        String uri = settings.string(CoreSettings.UPSTREAM_URI);
        String name = settings.string(CoreSettings.UPSTREAM);
        if (uri == null && name == null) {
            return null;
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
                return null;
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
            return null;
        }
        if (wantedName != null && wantedScheme != null && !provider.schemes().contains(wantedScheme)) {
            problems.add(Settings.problem(
                    CoreSettings.UPSTREAM_URI,
                    uri,
                    "scheme " + wantedScheme + " does not fit upstream " + provider.name() + " " + provider.schemes()));
            return null;
        }
        int before = problems.size();
        problems.check(settings, provider.settings());
        if (problems.size() > before) {
            return null;
        }
        ThreadFactory threads = new NamedThreadFactory(provider.name(), threadFactory);
        // The sink sees its own settings and the upstream credentials, never the database's.
        List<Setting> own = new ArrayList<>(provider.settings());
        own.addAll(List.of(UpstreamSettings.URI, UpstreamSettings.USERNAME, UpstreamSettings.PASSWORD));
        SinkConfig config = SinkConfig.of(uri, settings.only(own), threads);
        try {
            return provider.create(config);
        } catch (ConfigurationException e) {
            problems.addAll(e);
        } catch (RuntimeException e) {
            problems.add("sink " + provider.name() + " could not be created: " + Redaction.redact(e.getMessage()));
        }
        return null;
    }
}
