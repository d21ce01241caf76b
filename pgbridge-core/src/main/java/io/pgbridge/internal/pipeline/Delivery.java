package io.pgbridge.internal.pipeline;

import io.pgbridge.Event;

/** One event on one lane; completing it tells the event's ack tracker that this route is done. */
final class Delivery {
    final Event event;
    private final long sequence;
    private final SourceChannel source;

    Delivery(Event event, long sequence, SourceChannel source) {
        this.event = event;
        this.sequence = sequence;
        this.source = source;
    }

    void complete() {
        source.complete(event, sequence);
    }
}
