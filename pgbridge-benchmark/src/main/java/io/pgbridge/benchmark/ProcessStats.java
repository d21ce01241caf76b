package io.pgbridge.benchmark;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Resource figures of the current process (Linux). */
final class ProcessStats {
    private ProcessStats() {}

    /** Peak resident set size ({@code VmHWM} of {@code /proc/self/status}) in MiB, or -1 where unavailable. */
    static double peakRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Bytes allocated on the heap by the threads alive now, each since {@code since} (threads absent from it: since
     * they started), as {@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes(long[])} counts them; threads
     * that already ended are not counted. -1 where the JVM does not measure it.
     */
    static long allocatedBytes(Map<Long, Long> since) {
        Map<Long, Long> now = allocatedBytesByThread();
        if (now == null) {
            return -1;
        }
        long sum = 0;
        for (Map.Entry<Long, Long> e : now.entrySet()) {
            sum += e.getValue() - since.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }

    /** Bytes each live thread allocated so far, by thread id; null where the JVM does not measure it. */
    static Map<Long, Long> allocatedBytesByThread() {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads)
                || !threads.isThreadAllocatedMemoryEnabled()) {
            return null;
        }
        long[] ids = threads.getAllThreadIds();
        long[] bytes = threads.getThreadAllocatedBytes(ids);
        Map<Long, Long> byThread = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] >= 0) { // -1: the thread ended meanwhile
                byThread.put(ids[i], bytes[i]);
            }
        }
        return byThread;
    }

    /** Clock ticks per second of {@code /proc}'s CPU times ({@code USER_HZ}, 100 on Linux for x86 and arm). */
    private static final double TICKS_PER_SECOND = 100;

    /**
     * CPU time (user + system) the process's live threads used so far, in seconds, in two sums: {@code jit} (the JIT
     * compiler threads, {@code C1}/{@code C2 CompilerThread}) and {@code gc} (the garbage collector's threads, G1's
     * {@code GC Thread}, {@code G1 ...}), from {@code /proc/self/task/<tid>/stat} (10 ms resolution); an empty map
     * where {@code /proc} is not readable. Threads that ended are not counted (these two kinds do not end).
     */
    static Map<String, Double> jitAndGcCpuSeconds() {
        Map<String, Double> seconds = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException e) {
                    continue; // the thread ended meanwhile
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String kind = name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")
                        ? "jit"
                        : name.startsWith("GC Thread") || name.startsWith("G1 ") ? "gc" : null;
                if (kind != null) {
                    // after "(comm) ": state, then fields 4.., utime is field 14 and stime field 15 (proc(5))
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    double cpu = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
                    seconds.merge(kind, cpu, Double::sum);
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return seconds;
    }

    /** CPU time (user + system, all threads) the process used so far, in seconds. */
    static double cpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return -1;
    }
}
