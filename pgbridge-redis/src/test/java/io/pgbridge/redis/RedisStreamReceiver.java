package io.pgbridge.redis;

import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Reads a whole stream of the test Redis with XRANGE on every call: what a consumer of the stream would see. */
final class RedisStreamReceiver implements Receiver {
    private final RedisClient client = RedisClient.create(TestServices.redisUrl());
    private final StatefulRedisConnection<String, byte[]> connection =
            client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    private final String stream;

    RedisStreamReceiver(String stream) {
        this.stream = stream;
    }

    @Override
    public List<Received> received() {
        return connection.sync().xrange(stream, Range.create("-", "+")).stream()
                .map(RedisStreamReceiver::toReceived)
                .collect(Collectors.toList());
    }

    private static Received toReceived(StreamMessage<String, byte[]> entry) {
        Map<String, String> headers = new LinkedHashMap<>();
        entry.getBody().forEach((field, value) -> {
            if (field.startsWith("header.")) {
                headers.put(field.substring("header.".length()), new String(value, StandardCharsets.UTF_8));
            }
        });
        byte[] id = entry.getBody().get("event_id");
        return new Received(
                entry.getBody().get("payload"), id == null ? null : new String(id, StandardCharsets.UTF_8), headers);
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
    }
}
