package io.pgbridge.benchmark;

import io.lettuce.core.RedisClient;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.redis.RedisSinkProvider;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Redis sink against a bare lettuce loop, in the same run: {@code events} events (default 100,000) of ~200 bytes,
 * {@code XADD} to a stream with the sink's fields ({@code event_id}, {@code source}, {@code channel},
 * {@code content_type}, {@code payload}).
 *
 * <ul>
 *   <li>{@code bare}: one thread sending {@code XADD}s on one lettuce connection (async API), at most {@code window}
 *       (default 2,000) unanswered, replies taken by callbacks.
 *   <li>{@code sink}: {@link Sink#publish} called by one thread in batches of {@code batch} (default 500, the
 *       pipeline's {@code delivery.max-batch}), each waited for: one batch in flight.
 *   <li>{@code bridge}: the whole pipeline: a source publishing {@code events} events with positions (sealed every
 *       1,000, as WAL transactions) on one route to the stream, timed until the last position is acknowledged: up to
 *       4 batches in flight ({@code RedisSink.publishAsync}).
 *   <li>{@code bridge1}: the same with one batch in flight (the sink's {@code publishAsync} hidden), as before the
 *       sink pipelined batches: what pipelining buys, measured in the same run.
 * </ul>
 *
 * Warm-up, then {@code rounds} (default 4) rounds of the loops, as {@link BenchmarkRounds} prints them. Arguments
 * (all optional): {@code events=100000 batch=500 window=2000 rounds=4 only=bare,sink,bridge,bridge1
 * redis=redis://127.0.0.1:6379 latency=0}; {@code latency=ms} puts a {@link LatencyRelay} adding that round trip
 * between the loops and Redis (as a Redis across a network rather than on this machine). The stream is deleted after
 * each run.
 */
public final class RedisSinkBenchmark {
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

    private RedisSinkBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkRounds.Settings s = BenchmarkRounds.Settings.parse(
                args, "bare,sink,bridge,bridge1", "redis=redis://127.0.0.1:6379", "latency=0");
        String redis = s.args().string("redis");
        int latencyMillis = s.args().integer("latency");
        s.printHeader("Redis", "", "round trip +" + latencyMillis + " ms, ");
        URI server = URI.create(redis);
        LatencyRelay relay = latencyMillis > 0
                ? new LatencyRelay(
                        server.getHost(),
                        server.getPort(),
                        Duration.ofMillis(latencyMillis).dividedBy(2))
                : null;
        String loopsUri = relay == null ? redis : redis.replace(":" + server.getPort(), ":" + relay.port());
        String stream = "pgbridge-bench-" + UUID.randomUUID().toString().substring(0, 8);
        RedisClient client = RedisClient.create(redis);
        RedisClient loopsClient = RedisClient.create(loopsUri);
        try (StatefulRedisConnection<String, byte[]> admin = client.connect(CODEC)) {
            BenchmarkRounds.run(s, (loop, n) -> {
                double perSecond = run(loop, loopsClient, loopsUri, stream, n, s.batch(), s.window());
                long added = admin.sync().xlen(stream);
                admin.sync().del(stream);
                if (added != n) {
                    throw new IllegalStateException(loop + ": " + added + " entries for " + n + " events");
                }
                return perSecond;
            });
        } finally {
            loopsClient.shutdown();
            client.shutdown();
            if (relay != null) {
                relay.close();
            }
        }
    }

    private static double run(
            String loop, RedisClient client, String redis, String stream, int events, int batch, int window)
            throws Exception {
        return switch (loop) {
            case "bare" -> bare(client, stream, events, window);
            case "sink" -> SyntheticBridge.sinkEventsPerSecond(redisSink(redis), Target.stream(stream), events, batch);
            case "bridge" ->
                SyntheticBridge.eventsPerSecond("bench->stream:" + stream, redisSink(redis), events, batch);
            case "bridge1" ->
                SyntheticBridge.eventsPerSecond(
                        "bench->stream:" + stream, new OneBatchInFlight(redisSink(redis)), events, batch);
            default -> throw new IllegalArgumentException("unknown loop " + loop);
        };
    }

    private static double bare(RedisClient client, String stream, int events, int window) throws Exception {
        try (StatefulRedisConnection<String, byte[]> c = client.connect(CODEC)) {
            RedisAsyncCommands<String, byte[]> redis = c.async();
            Semaphore room = new Semaphore(window);
            CountDownLatch done = new CountDownLatch(events);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long start = System.nanoTime();
            for (int i = 0; i < events; i++) {
                room.acquire();
                redis.xadd(stream, new XAddArgs(), fields(SyntheticBridge.event(i)))
                        .whenComplete((id, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            }
                            room.release();
                            done.countDown();
                        });
            }
            if (!done.await(5, TimeUnit.MINUTES)) {
                throw new IllegalStateException("bare loop: replies missing");
            }
            if (failure.get() != null) {
                throw new IllegalStateException("bare loop: XADD failed", failure.get());
            }
            return events / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The sink's fields for an event without routing key or headers. */
    private static Map<String, byte[]> fields(Event e) {
        Map<String, byte[]> fields = new LinkedHashMap<>();
        fields.put("event_id", utf8(e.id()));
        fields.put("source", utf8(e.source()));
        fields.put("channel", utf8(e.channel()));
        fields.put("content_type", utf8(e.contentType()));
        fields.put("payload", e.payload());
        return fields;
    }

    private static Sink redisSink(String uri) {
        return new RedisSinkProvider().create(SinkConfig.of(uri, Settings.empty(), Executors.defaultThreadFactory()));
    }

    /**
     * The sink without its {@code publishAsync}: the pipeline then uses {@link Sink}'s default, which waits for
     * {@link Sink#publish}, so a route has one batch in flight, as before the Redis sink pipelined batches.
     */
    private record OneBatchInFlight(Sink sink) implements Sink {
        @Override
        public String name() {
            return sink.name();
        }

        @Override
        public Set<String> targetKinds() {
            return sink.targetKinds();
        }

        @Override
        public void start() {
            sink.start();
        }

        @Override
        public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
            return sink.publish(target, events);
        }

        @Override
        public void close() {
            sink.close();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
