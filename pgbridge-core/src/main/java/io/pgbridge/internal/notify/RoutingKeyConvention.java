package io.pgbridge.internal.notify;

import java.nio.charset.StandardCharsets;

/**
 * The seed's payload convention {@code routing_key|message}: {@code NOTIFY events, 'signup|A new user signup'}
 * publishes {@code A new user signup} with routing key {@code signup}.
 *
 * <p>The payload is split at its first {@code |} only when what comes before it can be a routing key: not empty, at
 * most 255 bytes (AMQP's limit for a short string), and free of whitespace, quotes and brackets. So a JSON payload
 * such as {@code {"a":"x|y"}} is never split. Payloads that legitimately start with such a prefix need the convention
 * turned off ({@code PGBRIDGE_NOTIFY_ROUTING_KEY_FROM_PAYLOAD=false}).
 */
final class RoutingKeyConvention {
    static final int MAX_KEY_BYTES = 255;

    private RoutingKeyConvention() {}

    /** The index of the separator, or -1 when the payload does not follow the convention. */
    static int separatorIndex(String payload) {
        int bar = payload.indexOf('|');
        if (bar <= 0) {
            return -1;
        }
        for (int i = 0; i < bar; i++) {
            char c = payload.charAt(i);
            if (Character.isWhitespace(c) || c == '"' || c == '\'' || c == '{' || c == '[' || c == '}' || c == ']') {
                return -1;
            }
        }
        if (payload.substring(0, bar).getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            return -1;
        }
        return bar;
    }
}
