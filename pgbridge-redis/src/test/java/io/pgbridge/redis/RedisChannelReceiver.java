package io.pgbridge.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.testkit.TestServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A pub/sub subscriber to one channel of the test Redis, subscribed when constructed. */
final class RedisChannelReceiver implements Receiver {
    private final RedisClient client = RedisClient.create(TestServices.redisUrl());
    private final StatefulRedisPubSubConnection<String, byte[]> connection =
            client.connectPubSub(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    private final List<Received> received = new ArrayList<>();

    RedisChannelReceiver(String channel) {
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String from, byte[] message) {
                synchronized (received) {
                    received.add(new Received(message, null, Map.of()));
                }
            }
        });
        connection.sync().subscribe(channel);
    }

    @Override
    public List<Received> received() {
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
    }
}
