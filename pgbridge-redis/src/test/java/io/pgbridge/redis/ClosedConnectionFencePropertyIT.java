package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.KillArgs;
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
 * The fence after a connection that closed without the sink dropping it, against the real Redis through a {@link
 * TcpRelay}: <em>every connection the sink publishes on after another one was used fences all earlier ones</em>, so
 * Redis adds nothing written on an earlier connection after what a later one wrote. Each try publishes 0 to 2 batches
 * (confirmed), then closes the sink's connection in one of two ways:
 *
 * <ul>
 *   <li>{@code cutInFlight}: holds the path, publishes 1 to 4 batches (kept on the path) and closes the path towards
 *       the sink only, as a path that broke on the client's side while Redis still has the connection and the bytes
 *       on their way: the batches fail at once (not after the command timeout);
 *   <li>else: Redis closes it ({@code CLIENT KILL ID}) while it is idle, the sink publishes on the next connection
 *       (retrying as the route would until it is confirmed), then holds the path and publishes 1 to 4 batches, which
 *       fail after the command timeout.
 * </ul>
 *
 * The route's retry then publishes the failed batches again, and only then does the path deliver what it kept: the
 * stream must hold the confirmed events and the retried ones, and nothing after them. With lettuce reconnecting by
 * itself, the kept commands are added last: the reconnected connection is not fenced ({@code cutInFlight}), or the
 * fence kills the id the connection had before lettuce reconnected it.
 */
class ClosedConnectionFencePropertyIT {
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

    @Property(tries = 12)
    void nothingOfAnEarlierConnectionIsAddedAfterALaterOneWrote(
            @ForAll boolean cutInFlight,
            @ForAll @IntRange(min = 0, max = 2) int confirmedBatches,
            @ForAll @IntRange(min = 1, max = 4) int heldBatches,
            @ForAll @IntRange(min = 1, max = 40) int size)
            throws Exception {
        URI redis = URI.create(TestServices.redisUrl());
        String stream = "pgbridge-closed-" + UUID.randomUUID();
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
            Set<String> earlier = RedisProbe.sinkClientIds(admin);
            assertThat(earlier).hasSize(1);

            if (!cutInFlight) {
                admin.sync()
                        .clientKill(KillArgs.Builder.id(
                                Long.parseLong(earlier.iterator().next())));
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> RedisProbe.sinkClientIds(admin).stream().noneMatch(earlier::contains));
                publishUntilConfirmed(sink, target, RedisProbe.events("k", size), expected);
                earlier.addAll(RedisProbe.sinkClientIds(admin));
            }

            path.holdExisting();
            List<List<Event>> held = new ArrayList<>();
            List<CompletableFuture<PublishResult>> results = new ArrayList<>();
            for (int b = 0; b < heldBatches; b++) {
                held.add(RedisProbe.events("h" + b, size));
                results.add(sink.publishAsync(target, held.get(b)).toCompletableFuture());
            }
            if (cutInFlight) { // once the path has all of them
                String last = held.get(heldBatches - 1).get(size - 1).id();
                await().atMost(Duration.ofSeconds(10)).until(() -> path.kept(last));
                path.cutHeld();
            }
            for (CompletableFuture<PublishResult> result : results) {
                PublishResult r = result.get(10, TimeUnit.SECONDS);
                assertThat(r.isFailure()).as("held batch: %s", r).isTrue();
                assertThat(r.confirmed()).as("held batch: %s", r).isZero();
            }
            for (List<Event> batch : held) { // the route's retry, on a later connection
                publishUntilConfirmed(sink, target, batch, expected);
            }

            path.releaseHeld();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> RedisProbe.sinkClientIds(admin).stream().noneMatch(earlier::contains));
            assertThat(RedisProbe.eventIds(admin, stream))
                    .as(
                            "entries (%s, %d confirmed batches, %d held, of %d)",
                            cutInFlight ? "cut in flight" : "killed by Redis", confirmedBatches, heldBatches, size)
                    .containsExactlyElementsOf(expected);
        } finally {
            admin.sync().del(stream);
        }
    }

    /** Publishes the batch, then what it did not confirm, until all of it is, as the route's retries would. */
    private static void publishUntilConfirmed(Sink sink, Target target, List<Event> batch, List<String> expected) {
        List<Event> left = new ArrayList<>(batch);
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    PublishResult r = sink.publish(target, left);
                    List<Event> confirmed = left.subList(0, r.confirmed());
                    confirmed.forEach(e -> expected.add(e.id()));
                    confirmed.clear();
                    return left.isEmpty();
                });
    }
}
