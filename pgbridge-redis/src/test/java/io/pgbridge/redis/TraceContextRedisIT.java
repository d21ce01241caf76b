package io.pgbridge.redis;

import io.lettuce.core.RedisClient;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import io.pgbridge.testkit.TestServices;
import org.junit.jupiter.api.Test;

/** The W3C trace context given to {@code pgbridge.send} arrives as Redis stream fields ({@code header.<name>}). */
class TraceContextRedisIT {

    @Test
    void traceparentAndTracestateArriveAsStreamFields() throws Exception {
        try (OutboxOutage outbox = OutboxOutage.install("pgb_redis_trace_")) {
            String stream = outbox.schema();
            try (RedisStreamReceiver receiver = new RedisStreamReceiver(stream)) {
                try (PgBridge bridge = outbox.builder(TestServices.redisUrl(), "events->stream:" + stream, "polling")
                        .build()) {
                    bridge.start();
                    outbox.sendAndAssertTraceContext(bridge, receiver, 3, "header.* fields");
                }
            } finally {
                RedisClient client = RedisClient.create(TestServices.redisUrl());
                try (var c = client.connect()) {
                    c.sync().del(stream);
                } finally {
                    client.shutdown();
                }
            }
        }
    }
}
