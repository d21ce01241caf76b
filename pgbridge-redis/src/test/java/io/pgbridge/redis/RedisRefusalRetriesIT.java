package io.pgbridge.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.Target;
import io.pgbridge.sinktck.RetriedRefusal;
import io.pgbridge.sinktck.RetriedRefusal.Outcome;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.testkit.TestServices;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Duplicates after k retries do not depend on k, against the real Redis: the stream's key holds a string, so Redis
 * answers every XADD of a 40-event batch with WRONGTYPE; the bridge retries the first event alone 2 or 8 times, then
 * the key is deleted (the next XADD creates the stream). See {@link RetriedRefusal}.
 */
class RedisRefusalRetriesIT {
    private static final int EVENTS = 40;

    private final RedisClient client = RedisClient.create(TestServices.redisUrl());
    private final StatefulRedisConnection<String, String> admin = client.connect();

    @AfterEach
    void close() {
        admin.close();
        client.shutdown();
    }

    @Test
    void aWrongTypeKeyRetriedTwiceOrEightTimesAddsTheSameDuplicates() throws Exception {
        RetriedRefusal.assertRetriesAddNothing(wrongType(2), wrongType(8), "WRONGTYPE", false);
    }

    private Outcome wrongType(int retries) throws Exception {
        String key = "pgbridge-refusal-" + UUID.randomUUID();
        admin.sync().set(key, "a string, not a stream");
        try (RedisStreamReceiver receiver = new RedisStreamReceiver(key)) {
            return RetriedRefusal.run(
                    new RedisSinkProvider()
                            .create(SinkCompatibilityKit.sinkConfig(
                                    TestServices.redisUrl(), Map.of("redis.command-timeout-ms", "5000"))),
                    Target.stream(key),
                    receiver,
                    EVENTS,
                    0,
                    retries,
                    (i, event) -> event,
                    () -> admin.sync().del(key));
        } finally {
            admin.sync().del(key);
        }
    }
}
