package io.pgbridge.internal;

import io.pgbridge.ConfigurationException;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.config.RouteParser;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The route table: routes from {@code bridge.channels} and code, each channel checked; each route bound to its sink
 * (by name, or the only one) with its target checked by that sink; the {@code dead-letter.target}. Every problem goes
 * to the accumulator.
 */
final class RouteTable {

    private RouteTable() {}

    static List<Route> routes(Assembly.Input in, Settings settings, Problems problems) {
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

    static Map<Route, Sink> bind(List<Route> routes, Map<String, Sink> sinks, Problems problems) {
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
            } else if (sinks.containsKey(SinkSelection.DEFAULT_SINK)) {
                sink = sinks.get(SinkSelection.DEFAULT_SINK);
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
    static Target deadLetterTarget(Settings settings, Map<Route, Sink> sinkByRoute, Problems problems) {
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
        Set<Sink> checked = Collections.newSetFromMap(new IdentityHashMap<>());
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
}
