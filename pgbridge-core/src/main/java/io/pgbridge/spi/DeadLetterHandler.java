package io.pgbridge.spi;

import io.pgbridge.Event;
import io.pgbridge.Target;

/**
 * Receives events that a sink refused for good ({@link PublishResult#rejected}), so that nothing is dropped
 * silently. The default handler logs each one at ERROR (id, channel, target and reason; never the payload). Called
 * on a delivery thread; must be thread-safe. When it throws, the event is retried as if the sink had failed.
 */
@FunctionalInterface
public interface DeadLetterHandler {

    /**
     * @param event the event that cannot be delivered
     * @param target where it was going
     * @param reason the sink's explanation, such as the broker's error
     */
    void deadLetter(Event event, Target target, String reason) throws Exception;
}
