package io.pgbridge.sinktck;

import java.util.Map;

/**
 * One message as a consumer of the broker saw it.
 *
 * @param payload the message body, exactly as received
 * @param eventId the pgbridge event id carried with the message, or {@code null} when the protocol has no place for
 *     it (MQTT 3.1.1)
 * @param headers the headers carried with the message, never {@code null}; may hold broker or pgbridge entries
 *     beyond the event's own
 */
public record Received(byte[] payload, String eventId, Map<String, String> headers) {
    public Received {
        headers = Map.copyOf(headers);
    }
}
