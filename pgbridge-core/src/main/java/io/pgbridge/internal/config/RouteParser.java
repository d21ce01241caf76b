package io.pgbridge.internal.config;

import io.pgbridge.ConfigurationException;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.spi.Problems;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the seed's {@code BRIDGE_CHANNELS} syntax: {@code channel->kind:name} entries separated by commas, with
 * an optional sink name as in {@code channel->sink/kind:name}. Whitespace around entries and parts is ignored.
 */
public final class RouteParser {
    private static final String SYNTAX = "expected channel->kind:name, for example events->exchange:amq.topic";

    private RouteParser() {}

    /**
     * @param key the setting's name, for messages
     * @throws ConfigurationException naming every malformed entry
     */
    public static List<Route> parse(String key, String text) {
        List<Route> routes = new ArrayList<>();
        Problems problems = new Problems();
        if (text == null || text.isBlank()) {
            throw new ConfigurationException(key + "='" + (text == null ? "" : text) + "': no routes; " + SYNTAX);
        }
        String[] entries = text.split(",", -1);
        for (int i = 0; i < entries.length; i++) {
            String entry = entries[i].trim();
            if (entry.isEmpty()) {
                if (i < entries.length - 1 || entries.length == 1) {
                    problems.add(key + " entry " + (i + 1) + " is empty; " + SYNTAX);
                }
                continue;
            }
            String problem = parseEntry(entry, routes);
            if (problem != null) {
                problems.add(key + " entry '" + entry + "': " + problem);
            }
        }
        problems.throwIfAny();
        return List.copyOf(routes);
    }

    private static String parseEntry(String entry, List<Route> routes) {
        int arrow = entry.indexOf("->");
        if (arrow < 0) {
            return "missing '->'; " + SYNTAX;
        }
        String channel = entry.substring(0, arrow).trim();
        String target = entry.substring(arrow + 2).trim();
        if (target.contains("->")) {
            return "holds more than one route; separate routes with ',' (not ';' or spaces), for example "
                    + "events->exchange:amq.topic, jobs->queue:jobs";
        }
        if (channel.isEmpty()) {
            return "missing channel before '->'; " + SYNTAX;
        }
        int colon = target.indexOf(':');
        if (colon < 0) {
            return "target '" + target + "' has no kind; " + SYNTAX;
        }
        String kindPart = target.substring(0, colon).trim();
        String name = target.substring(colon + 1).trim();
        String sink = null;
        int slash = kindPart.indexOf('/');
        if (slash >= 0) {
            sink = kindPart.substring(0, slash).trim();
            kindPart = kindPart.substring(slash + 1).trim();
            if (sink.isEmpty()) {
                return "empty sink name before '/'";
            }
        }
        if (kindPart.isEmpty()) {
            return "missing target kind before ':'; " + SYNTAX;
        }
        if (name.isEmpty()) {
            return "missing target name after '" + kindPart + ":'; " + SYNTAX;
        }
        routes.add(Route.of(channel, sink == null ? Target.of(kindPart, name) : Target.of(sink, kindPart, name)));
        return null;
    }
}
