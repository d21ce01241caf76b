package io.pgbridge.benchmark;

import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What one benchmark run counts: confirmed events by id (for lost and duplicated counts), commit-to-confirm
 * latencies, and the time from the first to the last confirmation. Thread-safe; callers hand over whole batches so
 * that measuring costs one lock and one clock reading per batch.
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

    /**
     * Confirmed events, all at the same moment: {@code ids[i]} (null entries are not tracked) of transactions
     * committed at {@code commitTimes[i]}.
     */
    synchronized void confirmed(List<String> ids, List<Instant> commitTimes) {
        Instant now = Instant.now();
        long nanos = System.nanoTime();
        if (count == 0) {
            firstNanos = nanos;
        }
        lastNanos = nanos;
        for (int i = 0; i < commitTimes.size(); i++) {
            String id = ids.get(i);
            if (id != null) {
                this.ids.add(id);
            }
            if (count == latenciesMicros.length) {
                latenciesMicros = Arrays.copyOf(latenciesMicros, count * 2 + 1);
            }
            Instant commitTime = commitTimes.get(i);
            latenciesMicros[count++] = commitTime == null
                    ? 0
                    : (now.getEpochSecond() - commitTime.getEpochSecond()) * 1_000_000L
                            + (now.getNano() - commitTime.getNano()) / 1_000L;
        }
        if (count >= expected) {
            notifyAll();
        }
    }

    synchronized void awaitAll() throws InterruptedException {
        while (count < expected) {
            wait();
        }
    }

    /**
     * The results as one line of {@code key=value} pairs. The rate is taken from the first to the last confirmation,
     * so that JVM start and connection set-up, which differ between the readers, do not count.
     */
    synchronized String summary(boolean tracksIds) {
        long[] sorted = Arrays.copyOf(latenciesMicros, count);
        Arrays.sort(sorted);
        double seconds = (lastNanos - firstNanos) / 1e9;
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
