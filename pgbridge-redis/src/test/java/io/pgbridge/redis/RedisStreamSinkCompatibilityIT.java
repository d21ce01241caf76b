package io.pgbridge.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.Map;
import java.util.UUID;

/** The sink contract for Redis Streams (XADD), against the test Redis. */
class RedisStreamSinkCompatibilityIT extends BrokerSinkCompatibilityKit {

    @Override
    protected Sink createSink(String uri) {
        return new RedisSinkProvider()
                .create(sinkConfig(
                        uri, Map.of("redis.command-timeout-ms", "3000", "redis.connect-timeout-ms", "5000")));
    }

    @Override
    protected String brokerUri() {
        return TestServices.redisUrl();
    }

    @Override
    protected Target newTarget() {
        return Target.stream("pgbridge-kit-" + UUID.randomUUID());
    }

    @Override
    protected Receiver receiver(Target target) {
        return new RedisStreamReceiver(target.name());
    }

    @Override
    protected TestServices.Service service() {
        return TestServices.Service.REDIS;
    }

    @Override
    protected void deleteTarget(Target target) {
        RedisClient client = RedisClient.create(TestServices.redisUrl());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            c.sync().del(target.name());
        } finally {
            client.shutdown();
        }
    }
}
