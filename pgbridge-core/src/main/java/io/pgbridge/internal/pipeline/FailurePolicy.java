package io.pgbridge.internal.pipeline;

import io.pgbridge.DeliveryGuarantee;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Sink;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Decides where an event goes that a sink refused for good, or that its source could not decode: the first of the
 * builder's {@link DeadLetterHandler}, the {@code dead-letter.target} on the route's own sink, the source's own
 * durable place (the outbox's {@code dead_letters} table); else, for an at-most-once source, a log line; else nowhere:
 * the route halts until an operator acts, since a durable source's event must never be dropped by policy. Immutable.
 */
public final class FailurePolicy {
    private static final DeadLetterHandler LOG =
            (event, target, reason) -> LoggerFactory.getLogger(DeadLetterHandler.class)
                    .error(
                            "Dead letter: event {} of source {} on channel {} to {} refused for good and dropped (the source is"
                                    + " at most once): {}",
                            event.id(),
                            event.source(),
                            event.channel(),
                            target,
                            reason);

    private final DeadLetterHandler configured;
    private final Target deadLetterTarget;
    private final Map<String, DeadLetterHandler> bySource;
    private final Map<String, DeliveryGuarantee> guarantees;

    /**
     * @param configured the builder's handler, or {@code null}
     * @param deadLetterTarget where on a route's own sink refused events go, or {@code null}
     * @param bySource the sources' own handlers, by source name
     * @param guarantees each source's guarantee, by source name
     */
    public FailurePolicy(
            DeadLetterHandler configured,
            Target deadLetterTarget,
            Map<String, DeadLetterHandler> bySource,
            Map<String, DeliveryGuarantee> guarantees) {
        this.configured = configured;
        this.deadLetterTarget = deadLetterTarget;
        this.bySource = Map.copyOf(bySource);
        this.guarantees = Map.copyOf(guarantees);
    }

    /**
     * The policy of a bridge: the builder's handler, the dead-letter target, and each source's own place and guarantee.
     *
     * @param configured the builder's handler, or {@code null}
     * @param deadLetterTarget where on a route's own sink refused events go, or {@code null}
     */
    public static FailurePolicy of(DeadLetterHandler configured, Target deadLetterTarget, List<EventSource> sources) {
        Map<String, DeadLetterHandler> own = new HashMap<>();
        Map<String, DeliveryGuarantee> guarantees = new HashMap<>();
        for (EventSource source : sources) {
            DeadLetterHandler handler = source.deadLetterHandler();
            if (handler != null) {
                own.put(source.name(), handler);
            }
            guarantees.put(source.name(), source.guarantee());
        }
        return new FailurePolicy(configured, deadLetterTarget, own, guarantees);
    }

    /** Where {@code event}, on a route to {@code sink}, goes; {@code null} when the route must halt. */
    DeadLetterHandler handlerFor(Event event, Sink sink) {
        if (configured != null) {
            return configured;
        }
        if (deadLetterTarget != null) {
            return new SinkDeadLetters(sink, deadLetterTarget);
        }
        DeadLetterHandler own = bySource.get(event.source());
        if (own != null) {
            return own;
        }
        return guarantees.get(event.source()) == DeliveryGuarantee.AT_MOST_ONCE ? LOG : null;
    }
}
