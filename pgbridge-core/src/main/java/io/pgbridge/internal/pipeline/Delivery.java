package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** One event on one route; settling it tells the event's source channel that this route is done with it. */
final class Delivery {
    final Event event;
    /** The event's sequence in its source's ledger; -1 when the event has no position. */
    final long sequence;
    /** Why the source could not decode the event, which no sink then gets; {@code null} for a regular event. */
    final String undecodable;

    final SourceChannel source;
    /** Routes of an event without a position still to settle, shared by its deliveries; null when on one route. */
    private final AtomicInteger routesLeft;

    Delivery(Event event, long sequence, String undecodable, SourceChannel source, AtomicInteger routesLeft) {
        this.event = event;
        this.sequence = sequence;
        this.undecodable = undecodable;
        this.source = source;
        this.routesLeft = routesLeft;
    }

    /** For an event without a position: whether this route was the last one to settle it. */
    boolean lastRoute() {
        return routesLeft == null || routesLeft.decrementAndGet() == 0;
    }

    /**
     * Settles deliveries of one lane, in lane order, with one call to each source channel per run of deliveries from
     * that source (a lane can carry events of several sources).
     */
    static void settle(List<Delivery> deliveries) {
        int start = 0;
        for (int i = 1; i <= deliveries.size(); i++) {
            if (i == deliveries.size() || deliveries.get(i).source != deliveries.get(start).source) {
                deliveries.get(start).source.settle(deliveries.subList(start, i));
                start = i;
            }
        }
    }
}
