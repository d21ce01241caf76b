package io.pgbridge.redis;

import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.Map;
import java.util.UUID;

/** The sink contract for Redis pub/sub (PUBLISH), which carries the payload alone. */
class RedisPubSubSinkCompatibilityIT extends BrokerSinkCompatibilityKit {

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
        return Target.topic("pgbridge-kit-" + UUID.randomUUID());
    }

    @Override
    protected Receiver receiver(Target target) {
        return new RedisChannelReceiver(target.name());
    }

    @Override
    protected TestServices.Service service() {
        return TestServices.Service.REDIS;
    }

    @Override
    protected boolean carriesEventId() {
        return false;
    }

    @Override
    protected boolean carriesHeaders() {
        return false;
    }
}
