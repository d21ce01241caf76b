package io.pgbridge.server;

import static io.pgbridge.server.PgBridgeServer.log;

import io.pgbridge.BridgeStats;
import io.pgbridge.PgBridge;
import io.pgbridge.spi.support.NamedThreadFactory;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Logs one progress line at INFO every {@code progress.interval-ms} while events flow, from {@link PgBridge#stats()}:
 * events delivered per second over the interval, events received, each slot's lag, events in flight and failed
 * delivery attempts. Nothing is logged for an interval in which no event was received, delivered or retried and none
 * is in flight. One named daemon thread.
 */
final class ProgressLog implements AutoCloseable {
    /** What one look at the bridge saw, for the difference between two looks. */
    record Snapshot(long nanos, long received, long delivered, long retries, int inFlight, Map<String, Long> lag) {
        static Snapshot of(BridgeStats stats, long nanos) {
            return new Snapshot(
                    nanos,
                    stats.received(),
                    stats.delivered(),
                    stats.retries(),
                    stats.inFlightEvents(),
                    stats.sourceLagBytes());
        }
    }

    private final PgBridge bridge;
    private final ScheduledExecutorService timer;
    private Snapshot last; // only the timer's thread touches it after start

    private ProgressLog(PgBridge bridge) {
        this.bridge = bridge;
        this.timer = Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("progress", null));
    }

    /** Starts logging every {@code interval}, the first line one interval from now. */
    static ProgressLog start(PgBridge bridge, Duration interval) {
        ProgressLog progress = new ProgressLog(bridge);
        progress.last = Snapshot.of(bridge.stats(), System.nanoTime());
        long millis = interval.toMillis();
        progress.timer.scheduleAtFixedRate(progress::tick, millis, millis, TimeUnit.MILLISECONDS);
        return progress;
    }

    private void tick() {
        try {
            Snapshot now = Snapshot.of(bridge.stats(), System.nanoTime());
            String line = line(last, now);
            last = now;
            if (line != null) {
                log.info(line);
            }
        } catch (RuntimeException e) { // a failed look must not end the schedule
            log.warn("No progress line: {}", e.toString());
        }
    }

    /**
     * The line for the interval between two looks, or {@code null} when the bridge was idle in it: nothing received,
     * delivered or retried, and nothing in flight. For example {@code progress: 1234.5 events/s (37035 delivered in
     * 30 s), 37040 received, lag wal=2048 bytes, 5 in flight, 0 retries}.
     */
    static String line(Snapshot before, Snapshot now) {
        long delivered = now.delivered() - before.delivered();
        long received = now.received() - before.received();
        long retries = now.retries() - before.retries();
        if (delivered == 0 && received == 0 && retries == 0 && now.inFlight() == 0) {
            return null;
        }
        double seconds = Math.max(1, now.nanos() - before.nanos()) / 1e9;
        String lag = now.lag().isEmpty()
                ? "not measured"
                : new TreeMap<>(now.lag())
                        .entrySet().stream()
                                .map(e -> e.getKey() + "=" + e.getValue() + " bytes")
                                .collect(Collectors.joining(", "));
        return String.format(
                java.util.Locale.ROOT,
                "progress: %.1f events/s (%d delivered in %.0f s), %d received, lag %s, %d in flight, %d retries",
                delivered / seconds,
                delivered,
                seconds,
                received,
                lag,
                now.inFlight(),
                retries);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
