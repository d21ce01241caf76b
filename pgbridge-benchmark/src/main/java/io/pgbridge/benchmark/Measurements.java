package io.pgbridge.benchmark;

import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * What one benchmark run counts: confirmed events by id (for lost and duplicated counts), commit-to-confirm
 * latencies, and the time from the first to the last confirmation. Thread-safe.
 */
final class Measurements {
    private final long expected;
    private final Set<String> ids = new HashSet<>();
    private long[] latenciesMicros;
    private int count;
    private long firstNanos;
    private long lastNanos;

    Measurements(long expected) {
        this.expected = expected;
        this.latenciesMicros = new long[(int) Math.min(expected, Integer.MAX_VALUE - 8)];
    }

    /** One confirmed event of a transaction committed at {@code commitTime}; {@code id} may be null (not tracked). */
    synchronized void confirmed(String id, Instant commitTime) {
        Instant now = Instant.now();
        long nanos = System.nanoTime();
        if (count == 0) {
            firstNanos = nanos;
        }
        lastNanos = nanos;
        if (id != null) {
            ids.add(id);
        }
        if (count == latenciesMicros.length) {
            latenciesMicros = Arrays.copyOf(latenciesMicros, count * 2 + 1);
        }
        latenciesMicros[count++] = commitTime == null
                ? 0
                : (now.getEpochSecond() - commitTime.getEpochSecond()) * 1_000_000L
                        + (now.getNano() - commitTime.getNano()) / 1_000L;
        if (count >= expected) {
            notifyAll();
        }
    }

    synchronized void awaitAll() throws InterruptedException {
        while (count < expected) {
            wait();
        }
    }

    /** The results as one line of {@code key=value} pairs; {@code startNanos} is when reading could begin. */
    synchronized String summary(long startNanos, boolean tracksIds) {
        long[] sorted = Arrays.copyOf(latenciesMicros, count);
        Arrays.sort(sorted);
        double seconds = (lastNanos - startNanos) / 1e9;
        long unique = tracksIds ? ids.size() : count;
        return String.format(
                Locale.ROOT,
                "events=%d seconds=%.2f events_per_s=%.0f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f lost=%d duplicated=%d "
                        + "peak_rss_mib=%.0f cpu_s=%.2f",
                count,
                seconds,
                count / seconds,
                percentile(sorted, 0.50) / 1000.0,
                percentile(sorted, 0.95) / 1000.0,
                percentile(sorted, 0.99) / 1000.0,
                Math.max(0, expected - unique),
                count - unique,
                ProcessStats.peakRssMib(),
                ProcessStats.cpuSeconds());
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
