package io.pgbridge.benchmark;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * pgbridge against the bare loop of each workload, in one invocation: for each workload, {@code runs} rounds (default
 * 3) of the bare loop then pgbridge (bare, pgbridge, bare, pgbridge, ...), each reader in a JVM of its own with the
 * same options ({@code -Xmx1g} and {@code jvm=}), each run on a fresh table and slot. Then one table: events/s median
 * and min–max (events over the time from the reader being ready, connected, to its last event; so for a live workload
 * at most the producer's rate), latency p50/p99 (receipt minus commit time; for NOTIFY, minus the time the notification was queued, see
 * {@link NotifyProducer}) and the p99 of the events after the first 10% ("warm p99": once the reader's code is
 * compiled), CPU time of the reader's process per event (from the reader being ready to its last event;
 * JIT compilation and GC included, and also shown apart), the CPU time it took to get ready (start-up: for pgbridge,
 * building and starting the bridge), its peak RSS, heap allocated per event by its threads from just before the reader
 * starts ({@link ProcessStats#allocatedBytes}), and
 * pgbridge's ratio to the bare loop. pgbridge delivers into a sink that only counts, so the table measures the
 * source, decoding and pipeline, not a broker.
 *
 * <ul>
 *   <li>{@code w1-live}: {@code rows} rows of {@link RowProducer#REALISTIC} in transactions of {@code txn}, inserted
 *       while the reader streams; bare loop {@link BarePgOutputLoop}.
 *   <li>{@code w1-catchup}: the same rows inserted before the reader starts (a backlog already in WAL).
 *   <li>{@code w2}: {@code singles} single-row transactions from {@code writers} concurrent sessions, live.
 *   <li>{@code w3}: {@code notifies} NOTIFY, {@code txn} per transaction, live, through the NOTIFY source; bare loop
 *       {@link BareListenLoop}.
 *   <li>{@code w4}: {@code wide} rows of {@link RowProducer#WIDE} (12 column types) in transactions of {@code txn},
 *       as a backlog: decoding-bound.
 * </ul>
 *
 * <p>Arguments (all optional): {@code rows=200000 txn=1000 singles=20000 writers=4 notifies=200000 wide=200000 runs=3
 * rate=0 workloads=w1-live,w1-catchup,w2,w3,w4 postgres=postgresql://postgres@127.0.0.1:5432/postgres jvm="-XX:..."}
 * ({@code jvm} adds options to both readers' JVMs, such as {@code -XX:StartFlightRecording=...}; {@code rate} paces
 * the live workloads' producers at that many events per second in total, 0 leaving them unpaced: unpaced, a
 * producer faster than a reader measures how far behind the reader falls, paced below both readers' capacity the
 * latency each adds).
 */
public final class PerformanceBenchmark {
    private static final String SCHEMA = "pgbridge_perf";
    private static final String CHANNEL = "pgbridge_perf";

    /**
     * One workload: what is produced, how, and when (live: once the reader is ready, at {@code rate} events/s or, at 0,
     * as fast as the producer can; else before it starts, as fast as it can).
     */
    private record Workload(
            String name,
            String title,
            RowProducer shape,
            int events,
            int perTxn,
            int writers,
            boolean live,
            double rate) {
        boolean isNotify() {
            return shape == null;
        }

        String bareMode() {
            return isNotify() ? "listen" : "bare";
        }

        String bridgeMode() {
            return isNotify() ? "notify" : "memory";
        }
    }

    private PerformanceBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args,
                List.of("jvm"),
                "rows=200000",
                "txn=1000",
                "singles=20000",
                "writers=4",
                "notifies=200000",
                "wide=200000",
                "runs=3",
                "rate=0",
                "workloads=w1-live,w1-catchup,w2,w3,w4",
                "postgres=postgresql://postgres@127.0.0.1:5432/postgres");
        List<String> jvm = new ArrayList<>(List.of("-Xmx1g"));
        jvm.addAll(a.words("jvm"));
        int rows = a.integer("rows");
        int txn = a.integer("txn");
        int runs = a.integer("runs");
        double rate = a.integer("rate");
        String paced = rate == 0 ? "" : String.format(Locale.ROOT, " at %,.0f/s", rate);
        List<Workload> all = List.of(
                new Workload("w1-live", "W1 live" + paced, RowProducer.REALISTIC, rows, txn, 1, true, rate),
                new Workload("w1-catchup", "W1 catch-up", RowProducer.REALISTIC, rows, txn, 1, false, 0),
                new Workload(
                        "w2",
                        "W2 single-row txns, " + a.string("writers") + " writers" + paced,
                        RowProducer.REALISTIC,
                        a.integer("singles"),
                        1,
                        a.integer("writers"),
                        true,
                        rate),
                new Workload("w3", "W3 NOTIFY" + paced, null, a.integer("notifies"), txn, 1, true, rate),
                new Workload("w4", "W4 wide table, catch-up", RowProducer.WIDE, a.integer("wide"), txn, 1, false, 0));
        List<String> chosen =
                a.list("workloads", all.stream().map(Workload::name).toList());
        String postgres = a.string("postgres");
        JdbcTarget target = JdbcTarget.of(postgres);
        System.out.printf(
                Locale.ROOT,
                "Performance benchmark: %s, %d runs each of bare and pgbridge, interleaved; reader JVMs %s; %d cores%n",
                a.values(),
                runs,
                jvm,
                Runtime.getRuntime().availableProcessors());
        StringBuilder table = new StringBuilder(String.join(
                "\n",
                "| workload | reader | events/s median (min–max) | p50 / p99 / warm p99 ms | CPU µs/event | of which JIT / GC"
                        + " | start-up CPU ms | peak RSS MiB | alloc B/event | events/s ratio |",
                "|---|---|---|---|---|---|---|---|---|---|",
                ""));
        try (Connection c = target.connect()) {
            c.createStatement().execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            c.createStatement().execute("CREATE SCHEMA " + SCHEMA);
            for (Workload w : all) {
                if (!chosen.contains(w.name())) {
                    continue;
                }
                List<RunResult> bare = new ArrayList<>();
                List<RunResult> bridge = new ArrayList<>();
                for (int run = 1; run <= runs; run++) {
                    bare.add(run(c, target, postgres, w, w.bareMode(), jvm, run));
                    bridge.add(run(c, target, postgres, w, w.bridgeMode(), jvm, run));
                }
                table.append(row(w.title(), "bare " + (w.isNotify() ? "LISTEN" : "pgoutput") + " loop", bare, null));
                table.append(row(w.title(), "pgbridge", bridge, bare));
            }
            c.createStatement().execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
        System.out.println();
        System.out.print(table);
    }

    /** One reader's run of one workload; prints its line. */
    private static RunResult run(
            Connection c, JdbcTarget target, String postgres, Workload w, String mode, List<String> jvm, int run)
            throws Exception {
        String table = SCHEMA + "." + w.name().replace('-', '_');
        String slot = "pgbridge_perf_" + mode;
        List<String> args = List.of(
                mode,
                postgres,
                target.url(),
                target.user(),
                w.isNotify() ? CHANNEL : slot,
                table,
                Integer.toString(w.events()));
        double producerRate = 0;
        String result;
        if (w.isNotify()) {
            try (ChildJvm child = new ChildJvm(jvm, WalBenchmarkRun.class, args)) {
                child.awaitLine("READY");
                producerRate = NotifyProducer.send(c, CHANNEL, w.events(), w.perTxn(), w.rate());
                result = child.awaitLine("RESULT");
            }
        } else {
            w.shape().createTable(c, table);
            try (BenchSlot ignored = new BenchSlot(c, slot, table)) {
                if (!w.live()) {
                    producerRate = produce(c, target, table, w);
                }
                try (ChildJvm child = new ChildJvm(jvm, WalBenchmarkRun.class, args)) {
                    child.awaitLine("READY");
                    if (w.live()) {
                        producerRate = produce(c, target, table, w);
                    }
                    result = child.awaitLine("RESULT");
                }
            }
            c.createStatement().execute("DROP TABLE " + table);
        }
        System.out.printf(
                Locale.ROOT, "%-11s run %d %-6s producer_per_s=%.0f %s%n", w.name(), run, mode, producerRate, result);
        return RunResult.parse(result);
    }

    private static double produce(Connection c, JdbcTarget target, String table, Workload w) throws Exception {
        return w.writers() == 1
                ? w.shape().insert(c, table, w.events(), w.perTxn(), w.rate())
                : w.shape().insert(target, table, w.events(), w.perTxn(), w.writers(), w.rate());
    }

    /** A table row: the medians of {@code results}, and the ratios to {@code bare}'s when given. */
    private static String row(String workload, String reader, List<RunResult> results, List<RunResult> bare) {
        double rate = median(results, r -> r.get("ready_events_per_s"));
        double cpu = median(results, PerformanceBenchmark::cpuMicrosPerEvent);
        double rss = median(results, r -> r.get("peak_rss_mib"));
        double alloc = median(results, PerformanceBenchmark::allocatedPerEvent);
        double lost = results.stream().mapToDouble(r -> r.get("lost")).sum();
        return String.format(
                Locale.ROOT,
                "| %s | %s | %,.0f (%,.0f–%,.0f)%s | %.1f / %.1f / %.1f | %.1f%s | %.1f / %.1f | %,.0f | %.0f%s | %,.0f%s | %s |%n",
                workload,
                reader,
                rate,
                results.stream()
                        .mapToDouble(r -> r.get("ready_events_per_s"))
                        .min()
                        .orElse(0),
                results.stream()
                        .mapToDouble(r -> r.get("ready_events_per_s"))
                        .max()
                        .orElse(0),
                lost > 0 ? String.format(Locale.ROOT, ", %.0f lost", lost) : "",
                median(results, r -> r.get("p50_ms")),
                median(results, r -> r.get("p99_ms")),
                median(results, r -> r.get("p99_warm_ms")),
                cpu,
                ratio(cpu, bare, PerformanceBenchmark::cpuMicrosPerEvent),
                median(results, r -> r.get("cpu_jit_s") * 1e6 / r.get("events")),
                median(results, r -> r.get("cpu_gc_s") * 1e6 / r.get("events")),
                median(results, r -> (r.get("cpu_run_s") - r.get("cpu_ready_s")) * 1e3),
                rss,
                ratio(rss, bare, r -> r.get("peak_rss_mib")),
                alloc,
                ratio(alloc, bare, PerformanceBenchmark::allocatedPerEvent),
                bare == null
                        ? "1"
                        : String.format(Locale.ROOT, "%.2f", rate / median(bare, r -> r.get("ready_events_per_s"))));
    }

    /** CPU time per event from the reader being ready (connected, reading) to its last event. */
    private static double cpuMicrosPerEvent(RunResult r) {
        return r.get("cpu_ready_s") * 1e6 / r.get("events");
    }

    private static double allocatedPerEvent(RunResult r) {
        return r.get("alloc_bytes") / r.get("events");
    }

    /** {@code " (2.1×)"}: {@code value} over the bare loop's median, or empty without a bare loop. */
    private static String ratio(double value, List<RunResult> bare, ToDoubleFunction<RunResult> metric) {
        return bare == null ? "" : String.format(Locale.ROOT, " (%.1f×)", value / median(bare, metric));
    }

    private static double median(List<RunResult> results, ToDoubleFunction<RunResult> metric) {
        double[] v = results.stream().mapToDouble(metric).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
