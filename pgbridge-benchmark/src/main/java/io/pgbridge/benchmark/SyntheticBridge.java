package io.pgbridge.benchmark;

import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.Target;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The whole pipeline without PostgreSQL, for the sink benchmarks: a source publishing {@code events} events with
 * positions (sealed every 1,000, as WAL transactions) on one route, timed until the last position is acknowledged; and
 * the events the sink benchmarks publish.
 */
final class SyntheticBridge {
    private SyntheticBridge() {}

    /**
     * @param route the route, such as {@code bench->queue:name}; its channel must be {@code bench}
     * @param sink a sink not started yet; the bridge starts and closes it
     * @return events per second, from the first event published to the last position acknowledged
     * @throws IllegalStateException when the last position is not acknowledged within 5 minutes
     */
    static double eventsPerSecond(String route, Sink sink, int events, int batch) throws Exception {
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
                .routes(route)
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

    /**
     * The sink alone, without a bridge: {@code publish} of batches of {@code batch} events ({@link #event}), one after
     * another, to {@code target}.
     *
     * @param sink a sink not started yet; started and closed here
     * @return events per second, from the first publish to the last one's return
     * @throws IllegalStateException when a publish does not confirm its whole batch
     */
    static double sinkEventsPerSecond(Sink sink, Target target, int events, int batch) throws Exception {
        try (sink) {
            sink.start();
            long start = System.nanoTime();
            for (int sent = 0; sent < events; ) {
                int n = Math.min(batch, events - sent);
                List<Event> chunk = new ArrayList<>(n);
                for (int i = sent; i < sent + n; i++) {
                    chunk.add(event(i));
                }
                PublishResult r = sink.publish(target, chunk);
                if (r.isFailure()) {
                    throw new IllegalStateException("sink: " + r);
                }
                sent += n;
            }
            return events / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The benchmarks' {@code i}th event: a JSON payload of about 200 bytes, channel {@code bench}. */
    static Event event(int i) {
        return Event.builder()
                .id("bench-" + i)
                .source("bench")
                .channel("bench")
                .payload(String.format(
                        Locale.ROOT,
                        "{\"id\":%d,\"customer\":\"customer-%06d\",\"status\":\"created\",\"amount\":%d.%02d,"
                                + "\"note\":\"%s\"}",
                        i,
                        i % 100_000,
                        i % 10_000,
                        i % 100,
                        "x".repeat(100)))
                .contentType("application/json")
                .build();
    }
}
