package io.pgbridge.benchmark;

import java.io.IOException;
import java.lang.management.ManagementFactory;
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

    /** CPU time (user + system, all threads) the process used so far, in seconds. */
    static double cpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return -1;
    }
}
