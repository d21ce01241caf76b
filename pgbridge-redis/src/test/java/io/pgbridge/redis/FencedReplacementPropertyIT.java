package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TcpRelay;
import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The fence of a replacement connection, against the real Redis through a {@link TcpRelay}: <em>once the sink wrote
 * on the connection that replaced one dropped after a reply did not come, Redis adds nothing written on the dropped
 * one</em>. Each try publishes 0 to 2 batches (confirmed), then holds the path and publishes 1 to 4 batches (kept on
 * the path: they fail after the command timeout, and the connection is dropped), publishes those events again as the
 * route's retry would (on a new connection), and only then lets the path deliver what it kept: the stream must hold
 * the confirmed events and the retried ones, and nothing after them. Without the fence ({@code CLIENT KILL ID} of
 * the dropped connection's client before the first command of the new one) Redis adds the kept batches last.
 */
class FencedReplacementPropertyIT {
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> admin;

    @BeforeContainer
    static void start() {
        client = RedisClient.create(TestServices.redisUrl());
        admin = client.connect();
    }

    @AfterContainer
    static void stop() {
        admin.close();
        client.shutdown();
    }

    @Property(tries = 15)
    void nothingOfTheDroppedConnectionIsAddedAfterItsReplacementWrote(
            @ForAll @IntRange(min = 0, max = 2) int confirmedBatches,
            @ForAll @IntRange(min = 1, max = 4) int heldBatches,
            @ForAll @IntRange(min = 1, max = 40) int size)
            throws Exception {
        URI redis = URI.create(TestServices.redisUrl());
        String stream = "pgbridge-fenced-" + UUID.randomUUID();
        Target target = Target.stream(stream);
        try (TcpRelay path = new TcpRelay(redis.getHost(), redis.getPort());
                Sink sink = new RedisSinkProvider()
                        .create(SinkCompatibilityKit.sinkConfig(
                                TestServices.redisUrl().replace(":" + redis.getPort(), ":" + path.port()),
                                Map.of("redis.command-timeout-ms", "300")))) {
            sink.start();
            List<String> expected = new ArrayList<>();
            for (int b = 0; b < confirmedBatches; b++) {
                List<Event> batch = RedisProbe.events("c" + b, size);
                assertThat(sink.publish(target, batch).confirmed()).isEqualTo(size);
                batch.forEach(e -> expected.add(e.id()));
            }
            Set<String> dropped = RedisProbe.sinkClientIds(admin);

            path.holdExisting();
            List<List<Event>> held = new ArrayList<>();
            List<CompletableFuture<PublishResult>> results = new ArrayList<>();
            for (int b = 0; b < heldBatches; b++) {
                held.add(RedisProbe.events("h" + b, size));
                results.add(sink.publishAsync(target, held.get(b)).toCompletableFuture());
            }
            for (CompletableFuture<PublishResult> result : results) {
                PublishResult r = result.get(10, TimeUnit.SECONDS);
                assertThat(r.isFailure()).as("held batch: %s", r).isTrue();
                assertThat(r.confirmed()).as("held batch: %s", r).isZero();
            }
            for (List<Event> batch : held) { // the route's retry, on a new connection
                PublishResult r = sink.publish(target, batch);
                assertThat(r.isFailure()).as("retry: %s", r).isFalse();
                batch.forEach(e -> expected.add(e.id()));
            }

            path.releaseHeld();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> RedisProbe.sinkClientIds(admin).stream().noneMatch(dropped::contains));
            assertThat(RedisProbe.eventIds(admin, stream))
                    .as("entries (%d confirmed batches, %d held, of %d)", confirmedBatches, heldBatches, size)
                    .containsExactlyElementsOf(expected);
        } finally {
            admin.sync().del(stream);
        }
    }
}
