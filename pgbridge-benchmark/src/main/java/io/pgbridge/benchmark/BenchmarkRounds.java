package io.pgbridge.benchmark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Loops measured in alternating rounds against a bare client loop, for the sink benchmarks ({@link AmqpSinkBenchmark},
 * {@link MqttSinkBenchmark}, {@link RedisSinkBenchmark}), with the arguments they share ({@link Settings}): a warm-up
 * round (up to 20,000 events, not printed), then {@code rounds} rounds of every loop, the order rotated each round
 * (the machine is shared: single runs vary). Prints each run, then per loop the best and median events/s and, when a
 * loop named {@code bare} ran, their ratio to the bare loop's.
 */
final class BenchmarkRounds {
    /** Events in the warm-up round, at most. */
    static final int WARM_UP_EVENTS = 20_000;

    /** One run of a loop. */
    interface Loop {
        /** @return events per second */
        double run(String loop, int events) throws Exception;
    }

    /**
     * The arguments every sink benchmark takes: {@code events} (default 100,000), {@code batch} (default 500),
     * {@code window} (default 2,000), {@code rounds} (default 4), {@code only} (the loops to run, in order, among
     * the benchmark's; the default is all of them), and the benchmark's own keys, in {@link #args}.
     */
    record Settings(int events, int batch, int window, int rounds, List<String> loops, BenchmarkArgs args) {
        /**
         * {@code args} read against the shared keys, {@code only=loops} and {@code own} ({@code key=default} each).
         *
         * @throws IllegalArgumentException as {@link BenchmarkArgs#parse} does, or when {@code only} names a loop not
         *     in {@code loops}
         */
        static Settings parse(String[] args, String loops, String... own) {
            List<String> known =
                    new ArrayList<>(List.of("events=100000", "batch=500", "window=2000", "rounds=4", "only=" + loops));
            known.addAll(List.of(own));
            BenchmarkArgs a = BenchmarkArgs.parse(args, known.toArray(String[]::new));
            return new Settings(
                    a.integer("events"),
                    a.integer("batch"),
                    a.integer("window"),
                    a.integer("rounds"),
                    a.list("only", List.of(loops.split(","))),
                    a);
        }

        /**
         * Prints {@code "<sink> sink benchmark: <events> events, <afterEvents>batch <batch>, bare window <window>,
         * <beforeCores><cores> cores"}; {@code afterEvents} and {@code beforeCores} are empty or end in {@code ", "}.
         */
        void printHeader(String sink, String afterEvents, String beforeCores) {
            System.out.printf(
                    Locale.ROOT,
                    "%s sink benchmark: %d events, %sbatch %d, bare window %d, %s%d cores%n",
                    sink,
                    events,
                    afterEvents,
                    batch,
                    window,
                    beforeCores,
                    Runtime.getRuntime().availableProcessors());
        }
    }

    private BenchmarkRounds() {}

    /** The loops of {@code settings}, measured with {@code loop} as the class Javadoc says. */
    static void run(Settings settings, Loop loop) throws Exception {
        List<String> loops = settings.loops();
        int rounds = settings.rounds();
        int events = settings.events();
        Map<String, List<Double>> results = new LinkedHashMap<>();
        for (int round = -1; round < rounds; round++) {
            for (int i = 0; i < loops.size(); i++) {
                String name = loops.get((i + Math.max(round, 0)) % loops.size());
                int n = round < 0 ? Math.min(events, WARM_UP_EVENTS) : events;
                double perSecond = loop.run(name, n);
                if (round >= 0) {
                    System.out.printf(Locale.ROOT, "%-6s events=%d events_per_s=%.0f%n", name, n, perSecond);
                    results.computeIfAbsent(name, k -> new ArrayList<>()).add(perSecond);
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

    private static double[] sorted(List<Double> values) {
        double[] r = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(r);
        return r;
    }

    /** The median of sorted values; NaN for none. */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
