package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;
import java.util.List;

/** One event on one lane; completing it tells the event's ack tracker that this route is done. */
final class Delivery {
    final Event event;
    final long sequence;
    private final SourceChannel source;

    Delivery(Event event, long sequence, SourceChannel source) {
        this.event = event;
        this.sequence = sequence;
        this.source = source;
    }

    void complete() {
        complete(List.of(this));
    }

    /**
     * Completes confirmed deliveries of one lane, in lane order, with one call to each source's channel per run of
     * deliveries from that source (a lane can carry events of several sources).
     */
    static void complete(List<Delivery> deliveries) {
        int start = 0;
        for (int i = 1; i <= deliveries.size(); i++) {
            if (i == deliveries.size() || deliveries.get(i).source != deliveries.get(start).source) {
                deliveries.get(start).source.complete(deliveries.subList(start, i));
                start = i;
            }
        }
    }
}
