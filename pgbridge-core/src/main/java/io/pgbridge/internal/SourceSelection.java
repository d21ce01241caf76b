package io.pgbridge.internal;

import io.pgbridge.ConfigurationException;
import io.pgbridge.NotifyOptions;
import io.pgbridge.OutboxOptions;
import io.pgbridge.Route;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.OptionsBinder;
import io.pgbridge.internal.notify.NotifySourceProvider;
import io.pgbridge.internal.outbox.OutboxSourceProvider;
import io.pgbridge.internal.wal.WalSourceProvider;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SourceConfig;
import io.pgbridge.spi.SourceProvider;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Chooses the sources: those named in {@code sources} or code, else the defaults the routed channels call for; binds
 * each built-in source's typed options (settings, then code) and checks that every routed channel has a source.
 */
final class SourceSelection {
    private static final String WAL_CHANNEL = "wal2json";

    private SourceSelection() {}

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

    static List<EventSource> sources(
            Assembly.Input in,
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
                if (!served.contains(channel) && RouteTable.channelProblem(channel) == null) {
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
            SourceProvider provider, SourceConfig config, Assembly.Input in, Settings settings, Problems problems) {
        int before = problems.size();
        EventSource source;
        if (provider instanceof NotifySourceProvider notify) {
            NotifyOptions o = Assembly.customized(
                    OptionsBinder.notify(settings, problems),
                    in.notify,
                    "notify",
                    problems,
                    NotifyOptions.Builder::build);
            source = o == null ? null : notify.create(config, o);
        } else if (provider instanceof WalSourceProvider wal) {
            WalOptions o = Assembly.customized(
                    OptionsBinder.wal(settings, problems), in.wal, "wal", problems, WalOptions.Builder::build);
            source = o == null ? null : wal.create(config, o);
        } else if (provider instanceof OutboxSourceProvider outbox) {
            OutboxOptions o = Assembly.customized(
                    OptionsBinder.outbox(settings, problems),
                    in.outbox,
                    "outbox",
                    problems,
                    OutboxOptions.Builder::build);
            WalOptions wal = Assembly.customized(
                    OptionsBinder.wal(settings, problems), in.wal, "wal", problems, WalOptions.Builder::build);
            source = o == null || wal == null ? null : outbox.create(config, o, wal);
        } else {
            problems.check(settings, provider.settings());
            source = problems.size() > before ? null : provider.create(config);
        }
        return problems.size() > before || config.postgres() == null ? null : source;
    }
}
