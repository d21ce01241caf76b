package io.pgbridge.internal.pipeline;

import io.pgbridge.DeliveryException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.util.List;

/**
 * Publishes a refused event to the dead-letter target on the route's own sink (a RabbitMQ queue, an MQTT topic, a
 * Redis stream, ...), with the reason and the original target in headers where the sink has headers. The event counts
 * as dead-lettered only when the broker confirmed it there; otherwise the route retries it.
 */
final class SinkDeadLetters implements DeadLetterHandler {
    static final String REASON_HEADER = "pgbridge-dead-letter-reason";
    static final String TARGET_HEADER = "pgbridge-dead-letter-target";

    private final Sink sink;
    private final Target target;

    SinkDeadLetters(Sink sink, Target target) {
        this.sink = sink;
        this.target = target;
    }

    @Override
    public void deadLetter(Event event, Target original, String reason) throws InterruptedException {
        Event letter = event.toBuilder()
                .header(REASON_HEADER, reason)
                .header(TARGET_HEADER, original.toString())
                .build();
        PublishResult result = sink.publish(target, List.of(letter));
        if (result.isFailure() || result.confirmed() != 1) {
            throw new DeliveryException(
                    "dead-letter target " + target + " on sink " + sink.name() + " did not confirm: " + result);
        }
    }
}
