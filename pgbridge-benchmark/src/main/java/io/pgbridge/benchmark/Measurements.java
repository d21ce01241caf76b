package io.pgbridge.benchmark;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one benchmark run counts: confirmed events by id (for lost and duplicated counts), commit-to-confirm
 * latencies, and the time from the first to the last confirmation. Thread-safe; callers hand over whole batches so
 * that measuring costs one lock and one clock reading per batch.
 *
 * <p>Ids are kept as 64-bit hashes in an array and counted after the run, so that measuring does not add a set of
 * 200,000 strings to the heap (and RSS) of the process it measures; two distinct ids collide with a probability of
 * about 10<sup>-9</sup> in such a run.
 *
 * <p>The process's CPU time and heap allocation are also taken from its construction on ({@code cpu_run_s},
 * {@code alloc_bytes}): construct it just before the reader starts, so that they count the reader, not the JVM's
 * start. CPU time is also taken from {@link #ready} on ({@code cpu_ready_s}: the reader connected, reading), with the
 * share of it the JIT compiler and the garbage collector used ({@code cpu_jit_s}, {@code cpu_gc_s}).
 */
final class Measurements {
    /** How long {@link #awaitAll} waits for the next confirmation: 30 seconds. */
    static final long STALL_MILLIS = 30_000;
    /** The share of a run's events, the first ones confirmed, that {@code p99_warm_ms} leaves out: 10%. */
    static final double WARM_UP_SHARE = 0.10;

    private final long expected;
    private long[] idHashes;
    private int idCount;
    private long[] latenciesMicros;
    private int count;
    private int batches;
    private long firstNanos;
    private long lastNanos;
    private long readyNanos;
    private final double startCpuSeconds = ProcessStats.cpuSeconds();
    private final Map<Long, Long> startAllocated = ProcessStats.allocatedBytesByThread();
    private double readyCpuSeconds = -1;
    private Map<String, Double> readyJitAndGc = Map.of();

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

    /** Marks the moment the reader is ready to read: the start of {@code ready_events_per_s}. */
    synchronized void ready() {
        readyNanos = System.nanoTime();
        readyCpuSeconds = ProcessStats.cpuSeconds();
        readyJitAndGc = ProcessStats.jitAndGcCpuSeconds();
    }

    /**
     * Waits until every expected event was confirmed, or until none was for {@link #STALL_MILLIS}: then the summary
     * counts the missing ones as lost, rather than the run hanging.
     */
    synchronized void awaitAll() throws InterruptedException {
        long since = System.nanoTime();
        while (count < expected) {
            long lastProgress = count == 0 ? since : Math.max(since, lastNanos);
            long remaining = STALL_MILLIS - (System.nanoTime() - lastProgress) / 1_000_000;
            if (remaining <= 0) {
                return;
            }
            wait(remaining);
        }
    }

    /**
     * The results as one line of {@code key=value} pairs. The rate {@code events_per_s} is taken from the first to
     * the last confirmation, so that JVM start and connection set-up, which differ between the readers, do not count;
     * {@code ready_events_per_s} from {@link #ready} to the last confirmation (0 without {@link #ready}), which also
     * counts the wait for the first event (a backlog read in one batch has no first-to-last interval). {@code
     * p99_warm_ms} is the p99 of the events confirmed after the first {@link #WARM_UP_SHARE} of them: the latency once
     * the reader's code is compiled, apart from the wait of the events that arrived while it was not.
     */
    synchronized String summary(boolean tracksIds) {
        double cpuSeconds = ProcessStats.cpuSeconds(); // first, so that the summary's own work does not count
        Map<String, Double> jitAndGc = ProcessStats.jitAndGcCpuSeconds();
        long allocated = startAllocated == null ? -1 : ProcessStats.allocatedBytes(startAllocated);
        long[] sorted = Arrays.copyOf(latenciesMicros, count);
        Arrays.sort(sorted);
        long[] warm = Arrays.copyOfRange(latenciesMicros, (int) (count * WARM_UP_SHARE), count);
        Arrays.sort(warm);
        double seconds = (lastNanos - firstNanos) / 1e9;
        long unique = tracksIds ? distinct(Arrays.copyOf(idHashes, idCount)) : count;
        return String.format(
                Locale.ROOT,
                "events=%d seconds=%.2f events_per_s=%.0f ready_events_per_s=%.0f batch=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f p99_warm_ms=%.1f lost=%d duplicated=%d "
                        + "peak_rss_mib=%.0f cpu_s=%.2f cpu_run_s=%.3f cpu_ready_s=%.3f cpu_jit_s=%.2f cpu_gc_s=%.2f"
                        + " alloc_bytes=%d",
                count,
                seconds,
                count / seconds,
                readyNanos == 0 ? 0 : count / ((lastNanos - readyNanos) / 1e9),
                (double) count / Math.max(batches, 1),
                percentile(sorted, 0.50) / 1000.0,
                percentile(sorted, 0.95) / 1000.0,
                percentile(sorted, 0.99) / 1000.0,
                percentile(warm, 0.99) / 1000.0,
                Math.max(0, expected - unique),
                count - unique,
                ProcessStats.peakRssMib(),
                cpuSeconds,
                cpuSeconds - startCpuSeconds,
                readyCpuSeconds < 0 ? -1 : cpuSeconds - readyCpuSeconds,
                since(jitAndGc, readyJitAndGc, "jit"),
                since(jitAndGc, readyJitAndGc, "gc"),
                allocated);
    }

    /** CPU seconds of {@code kind} threads from {@code then} to {@code now}; -1 when either was not measured. */
    private static double since(Map<String, Double> now, Map<String, Double> then, String kind) {
        return now.isEmpty() || then.isEmpty() ? -1 : now.getOrDefault(kind, 0.0) - then.getOrDefault(kind, 0.0);
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
