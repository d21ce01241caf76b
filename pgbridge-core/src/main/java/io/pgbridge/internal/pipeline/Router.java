package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the lanes of an event: the routes on its channel, plus the routes on its source's catch-all channel (the WAL
 * source's {@code wal2json}, which in the seed means "every WAL change"). Immutable after construction.
 */
final class Router {
    private final Map<String, List<Lane>> byChannel = new HashMap<>();
    private final Map<String, String> catchAllBySource;

    Router(List<Lane> lanes, Map<String, String> catchAllBySource) {
        for (Lane lane : lanes) {
            byChannel
                    .computeIfAbsent(lane.route().channel(), c -> new ArrayList<>())
                    .add(lane);
        }
        this.catchAllBySource = Map.copyOf(catchAllBySource);
    }

    List<Lane> lanesFor(Event event) {
        List<Lane> exact = byChannel.getOrDefault(event.channel(), List.of());
        String catchAll = catchAllBySource.get(event.source());
        if (catchAll == null || catchAll.equals(event.channel())) {
            return exact;
        }
        List<Lane> all = byChannel.get(catchAll);
        if (all == null) {
            return exact;
        }
        if (exact.isEmpty()) {
            return all;
        }
        List<Lane> both = new ArrayList<>(exact);
        both.addAll(all);
        return both;
    }

    boolean isRouted(String source, String channel) {
        if (byChannel.containsKey(channel)) {
            return true;
        }
        String catchAll = catchAllBySource.get(source);
        return catchAll != null && byChannel.containsKey(catchAll);
    }
}
