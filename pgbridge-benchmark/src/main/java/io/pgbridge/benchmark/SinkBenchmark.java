package io.pgbridge.benchmark;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.mqtt.MqttSinkProvider;
import io.pgbridge.redis.RedisSinkProvider;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;

/**
 * The sinks on their own, without PostgreSQL: {@code events} events (default 200,000) with a ~200-byte JSON payload
 * published by one thread, as one pipeline lane does, in batches of {@code batch} (default 500, the pipeline's
 * {@code delivery.max-batch}; and 1, one event per round trip), into MQTT at QoS 0 and QoS 1, Redis {@code PUBLISH}
 * and Redis {@code XADD}. For each, after a warm-up run, it prints events per second and the publish-to-confirm
 * latency: the time from the start of the {@code publish} call to its return with the event confirmed (for a batch,
 * the batch's latency).
 *
 * <p>Arguments (all optional): {@code events=200000 batches=500,1 mqtt=mqtt://127.0.0.1:1883
 * redis=redis://127.0.0.1:6379}. No subscriber listens: MQTT and pub/sub messages are dropped by the broker after it
 * confirmed them, and the benchmark's stream is deleted afterwards.
 */
public final class SinkBenchmark {
    private SinkBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args, "events=200000", "batches=500,1", "mqtt=mqtt://127.0.0.1:1883", "redis=redis://127.0.0.1:6379");
        int events = a.integer("events");
        List<Integer> batches = a.integers("batches");
        String mqtt = a.string("mqtt");
        String redis = a.string("redis");
        System.out.printf(
                Locale.ROOT,
                "Sink benchmark: %d events of %d bytes, one publishing thread, %d cores%n",
                events,
                payload(0).length(),
                Runtime.getRuntime().availableProcessors());
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String stream = "pgbridge-bench-" + suffix;
        for (int batch : batches) {
            run("mqtt-qos0", new MqttSinkProvider(), mqtt, Map.of("mqtt.qos", "0"), topic(suffix), events, batch);
            run("mqtt-qos1", new MqttSinkProvider(), mqtt, Map.of("mqtt.qos", "1"), topic(suffix), events, batch);
            run("redis-publish", new RedisSinkProvider(), redis, Map.of(), Target.topic(stream), events, batch);
            try {
                run("redis-xadd", new RedisSinkProvider(), redis, Map.of(), Target.stream(stream), events, batch);
            } finally {
                deleteStream(redis, stream);
            }
        }
    }

    private static Target topic(String suffix) {
        return Target.topic("pgbridge-bench/" + suffix);
    }

    /** A warm-up run of up to 10,000 events (JIT, connections), not printed, then the measured run. */
    private static void run(
            String name,
            SinkProvider provider,
            String uri,
            Map<String, String> settings,
            Target target,
            int events,
            int batch)
            throws InterruptedException {
        measure(name, provider, uri, settings, target, Math.min(events, 10_000), batch);
        System.out.println(measure(name, provider, uri, settings, target, events, batch));
    }

    private static String measure(
            String name,
            SinkProvider provider,
            String uri,
            Map<String, String> settings,
            Target target,
            int events,
            int batch)
            throws InterruptedException {
        long[] latencyNanos = new long[events];
        long start;
        long end;
        try (Sink sink = provider.create(SinkConfig.of(uri, Settings.of(settings), Executors.defaultThreadFactory()))) {
            sink.start();
            start = System.nanoTime();
            int sent = 0;
            while (sent < events) {
                List<Event> chunk = chunk(sent, Math.min(batch, events - sent));
                long before = System.nanoTime();
                PublishResult result = sink.publish(target, chunk);
                long took = System.nanoTime() - before;
                if (result.isFailure()) {
                    throw new IllegalStateException(name + ": publish failed after " + sent + " events: " + result);
                }
                Arrays.fill(latencyNanos, sent, sent + chunk.size(), took);
                sent += chunk.size();
            }
            end = System.nanoTime();
        }
        Arrays.sort(latencyNanos);
        double seconds = (end - start) / 1e9;
        return String.format(
                Locale.ROOT,
                "%-13s batch=%-4d events=%d seconds=%.2f events_per_s=%.0f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f "
                        + "max_ms=%.3f",
                name,
                batch,
                events,
                seconds,
                events / seconds,
                percentile(latencyNanos, 0.50),
                percentile(latencyNanos, 0.95),
                percentile(latencyNanos, 0.99),
                latencyNanos[events - 1] / 1e6);
    }

    private static List<Event> chunk(int from, int size) {
        List<Event> chunk = new ArrayList<>(size);
        for (int i = from; i < from + size; i++) {
            chunk.add(Event.builder()
                    .id("bench-" + i)
                    .source("benchmark")
                    .channel("bench")
                    .payload(payload(i))
                    .contentType("application/json")
                    .build());
        }
        return chunk;
    }

    private static String payload(int i) {
        return String.format(
                Locale.ROOT,
                "{\"id\":%9d,\"kind\":\"signup\",\"email\":\"user%09d@example.com\",\"name\":\"A new user\","
                        + "\"plan\":\"free\",\"referrer\":\"https://example.com/landing/page\",\"note\":\"%s\"}",
                i,
                i,
                "x".repeat(40));
    }

    private static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    private static void deleteStream(String uri, String stream) {
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            c.sync().del(stream);
        } finally {
            client.shutdown();
        }
    }
}
