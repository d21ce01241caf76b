package io.pgbridge.redis;

import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.Event;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * What the Redis property ITs ask the real Redis through an admin connection, the events they publish, and the sink
 * and admin connection several of them share ({@link SinkWithAdmin}).
 */
final class RedisProbe {
    private RedisProbe() {}

    /**
     * A started Redis sink on the test Redis ({@link TestServices#redisUrl()}) with a command timeout of 20 s (no try
     * comes near it: a late reply is not what these tests are about), and an admin connection on a client of its own
     * (not the sink's). {@link #close} closes the sink, then the admin connection and its client.
     */
    record SinkWithAdmin(RedisClient client, StatefulRedisConnection<String, String> admin, Sink sink)
            implements AutoCloseable {
        static SinkWithAdmin open() {
            RedisClient client = RedisClient.create(TestServices.redisUrl());
            StatefulRedisConnection<String, String> admin = client.connect();
            Sink sink = new RedisSinkProvider()
                    .create(SinkCompatibilityKit.sinkConfig(
                            TestServices.redisUrl(), Map.of("redis.command-timeout-ms", "20000")));
            sink.start();
            return new SinkWithAdmin(client, admin, sink);
        }

        @Override
        public void close() {
            sink.close();
            admin.close();
            client.shutdown();
        }
    }

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
            events.add(event(prefix + "-" + i + "-" + UUID.randomUUID()));
        }
        return events;
    }

    /** An event whose id and payload are {@code id}, from source {@code test} on channel {@code c}. */
    static Event event(String id) {
        return Event.builder().id(id).source("test").channel("c").payload(id).build();
    }
}
