package io.pgbridge.redis;

import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/** What the Redis fence property ITs ask the real Redis through an admin connection, and the events they publish. */
final class RedisProbe {
    private RedisProbe() {}

    /** The {@code CLIENT ID}s of the sink's connections Redis has now (the sink names its connections pgbridge). */
    static Set<String> sinkClientIds(StatefulRedisConnection<String, String> admin) {
        return admin.sync()
                .clientList()
                .lines()
                .filter(line -> line.contains(" name=pgbridge "))
                .map(line -> line.substring("id=".length(), line.indexOf(' ')))
                .collect(Collectors.toSet());
    }

    /** The {@code event_id} of every entry of {@code stream}, in stream order. */
    static List<String> eventIds(StatefulRedisConnection<String, String> admin, String stream) {
        return admin.sync().xrange(stream, Range.create("-", "+")).stream()
                .map(StreamMessage::getBody)
                .map(fields -> fields.get("event_id"))
                .toList();
    }

    /** {@code n} events whose id and payload are {@code <prefix>-<i>-<uuid>}. */
    static List<Event> events(String prefix, int n) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = prefix + "-" + i + "-" + UUID.randomUUID();
            events.add(Event.builder()
                    .id(id)
                    .source("test")
                    .channel("c")
                    .payload(id)
                    .build());
        }
        return events;
    }
}
