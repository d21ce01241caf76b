package io.pgbridge.benchmark;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What one benchmark run counts: confirmed events by id (for lost and duplicated counts), commit-to-confirm
 * latencies, and the time from the first to the last confirmation. Thread-safe; callers hand over whole batches so
 * that measuring costs one lock and one clock reading per batch.
 *
 * <p>Ids are kept as 64-bit hashes in an array and counted after the run, so that measuring does not add a set of
 * 200,000 strings to the heap (and RSS) of the process it measures; two distinct ids collide with a probability of
 * about 10<sup>-9</sup> in such a run.
 */
final class Measurements {
    private final long expected;
    private long[] idHashes;
    private int idCount;
    private long[] latenciesMicros;
    private int count;
    private int batches;
    private long firstNanos;
    private long lastNanos;

    Measurements(long expected) {
        this.expected = expected;
        this.latenciesMicros = new long[(int) Math.min(expected, Integer.MAX_VALUE - 8)];
        this.idHashes = new long[latenciesMicros.length];
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
        batches++;
        for (int i = 0; i < commitTimes.size(); i++) {
            String id = ids.get(i);
            if (id != null) {
                if (idCount == idHashes.length) {
                    idHashes = Arrays.copyOf(idHashes, idCount * 2 + 1);
                }
                idHashes[idCount++] = hash(id);
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
        long unique = tracksIds ? distinct(Arrays.copyOf(idHashes, idCount)) : count;
        return String.format(
                Locale.ROOT,
                "events=%d seconds=%.2f events_per_s=%.0f batch=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f lost=%d duplicated=%d "
                        + "peak_rss_mib=%.0f cpu_s=%.2f",
                count,
                seconds,
                count / seconds,
                (double) count / Math.max(batches, 1),
                percentile(sorted, 0.50) / 1000.0,
                percentile(sorted, 0.95) / 1000.0,
                percentile(sorted, 0.99) / 1000.0,
                Math.max(0, expected - unique),
                count - unique,
                ProcessStats.peakRssMib(),
                ProcessStats.cpuSeconds());
    }

    private static long distinct(long[] hashes) {
        Arrays.sort(hashes);
        long n = 0;
        for (int i = 0; i < hashes.length; i++) {
            if (i == 0 || hashes[i] != hashes[i - 1]) {
                n++;
            }
        }
        return n;
    }

    /** FNV-1a over the characters, then SplitMix64's finaliser to spread the bits. */
    private static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
