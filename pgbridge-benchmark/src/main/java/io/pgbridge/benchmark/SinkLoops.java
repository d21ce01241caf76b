package io.pgbridge.benchmark;

import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the sink-against-bare-client benchmarks ({@link AmqpSinkBenchmark}, {@link RedisSinkBenchmark}) share: their
 * events, the whole pipeline as a loop, and the rounds with their summary.
 */
final class SinkLoops {
    private SinkLoops() {}

    /** One measured loop: publishes {@code events} events and returns the events per second once all are confirmed. */
    @FunctionalInterface
    interface Loop {
        double run(String name, int events) throws Exception;
    }

    /** Runs after each loop's run (warm-up included), to check and clear the target. */
    @FunctionalInterface
    interface AfterRun {
        void accept(String name, int events) throws Exception;
    }

    /**
     * A warm-up of up to 20,000 events, then {@code rounds} rounds of the loops, the order rotated each round (the
     * machine is shared: single runs vary); prints each measured run, then per loop the best and median events/s and
     * their ratio to the {@code bare} loop's.
     */
    static void compare(List<String> loops, int rounds, int events, Loop run, AfterRun after) throws Exception {
        Map<String, List<Double>> results = new LinkedHashMap<>();
        for (int round = -1; round < rounds; round++) {
            for (int i = 0; i < loops.size(); i++) {
                String loop = loops.get((i + Math.max(round, 0)) % loops.size());
                int n = round < 0 ? Math.min(events, 20_000) : events;
                double perSecond = run.run(loop, n);
                after.accept(loop, n);
                if (round >= 0) {
                    System.out.printf(Locale.ROOT, "%-6s events=%d events_per_s=%.0f%n", loop, n, perSecond);
                    results.computeIfAbsent(loop, k -> new ArrayList<>()).add(perSecond);
                }
            }
        }
        double[] bare = sorted(results.getOrDefault("bare", List.of()));
        for (var e : results.entrySet()) {
            double[] r = sorted(e.getValue());
            System.out.printf(
                    Locale.ROOT,
                    "%-6s best_events_per_s=%.0f median_events_per_s=%.0f%s%n",
                    e.getKey(),
                    r[r.length - 1],
                    median(r),
                    bare.length == 0
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    " ratio_best=%.3f ratio_median=%.3f",
                                    r[r.length - 1] / bare[bare.length - 1],
                                    median(r) / median(bare)));
        }
    }

    /**
     * The whole pipeline: a source publishing {@code events} events with positions (sealed every 1,000, as WAL
     * transactions) on one route to {@code target} (such as {@code queue:name}) through {@code sink}, timed until the
     * last position is acknowledged.
     */
    static double bridge(Sink sink, String target, int events, int batch) throws Exception {
        CountDownLatch acknowledged = new CountDownLatch(1);
        long[] startNanos = new long[1];
        EventSource source = new EventSource() {
            private volatile Thread thread;

            @Override
            public String name() {
                return "bench";
            }

            @Override
            public void start(SourceContext context) {
                thread = new Thread(() -> {
                    try {
                        startNanos[0] = System.nanoTime();
                        for (int i = 0; i < events; i++) {
                            context.publish(event(i).toBuilder().position(i + 1).build());
                            if ((i + 1) % 1000 == 0 || i == events - 1) {
                                context.seal(i + 1);
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                thread.setDaemon(true);
                thread.start();
            }

            @Override
            public void acknowledge(long position) {
                if (position == events) {
                    acknowledged.countDown();
                }
            }

            @Override
            public void stop() {
                if (thread != null) {
                    thread.interrupt();
                }
            }

            @Override
            public void close() {}
        };
        try (PgBridge bridge = PgBridge.builder()
                .postgres("postgresql://localhost/unused")
                .routes("bench->" + target)
                .source(source)
                .sink(sink)
                .maxBatchSize(batch)
                .shutdownTimeout(Duration.ofSeconds(30))
                .build()) {
            bridge.start();
            if (!acknowledged.await(5, TimeUnit.MINUTES)) {
                throw new IllegalStateException("bridge: last position not acknowledged");
            }
            return events / ((System.nanoTime() - startNanos[0]) / 1e9);
        }
    }

    /** Event {@code i}: ~200 bytes of JSON, content type, source and channel {@code bench}. */
    static Event event(int i) {
        return Event.builder()
                .id("bench-" + i)
                .source("bench")
                .channel("bench")
                .payload(payload(i))
                .contentType("application/json")
                .build();
    }

    private static String payload(int i) {
        return String.format(
                Locale.ROOT,
                "{\"id\":%d,\"customer\":\"customer-%06d\",\"status\":\"created\",\"amount\":%d.%02d,"
                        + "\"note\":\"%s\"}",
                i,
                i % 100_000,
                i % 10_000,
                i % 100,
                "x".repeat(100));
    }

    private static double[] sorted(List<Double> values) {
        double[] r = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(r);
        return r;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
