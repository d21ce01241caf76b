package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import io.pgbridge.testkit.TestServices;
import java.time.Duration;
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
                    outbox.send(3);
                    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(receiver.received())
                            .as("received; %s", bridge.stats())
                            .hasSizeGreaterThanOrEqualTo(3));
                }
                OutboxOutage.assertSentTraceContext(receiver.received(), 3, "header.* fields");
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
