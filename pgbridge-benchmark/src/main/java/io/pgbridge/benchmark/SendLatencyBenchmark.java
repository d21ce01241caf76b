package io.pgbridge.benchmark;

import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.sql.PgBridgeSchema;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * What the outbox costs the application: the latency of {@code pgbridge.send()} (one event per autocommit transaction)
 * from 16 concurrent writers, in phases of {@code seconds} each:
 *
 * <ol>
 *   <li>{@code no-bridge}: the baseline, nothing reads the outbox;
 *   <li>{@code polling-delivering}: a polling bridge starts and delivers every event to an in-memory sink, with no
 *       partition work to do (the reference for the next phase);
 *   <li>{@code maintenance}: the same, but the bridge starts with 30 days of partitions to create (the next days' are dropped
 *       first) and 10 expired empty partitions to drop, and runs maintenance every second;
 *   <li>{@code sink-down-polling}: a polling bridge whose sink is down for {@code outage-seconds};
 *   <li>{@code sink-down-streaming}: the same with a streaming bridge whose slot exists (created between the phases),
 *       which checkpoints after 30 s and records the events for replay;
 *   <li>{@code bridge-starting}: polling and streaming bridges started and closed one after the other.
 * </ol>
 *
 * <p>A {@code no-bridge} phase is measured again before each of the others, because the machine may be shared. Prints
 * p50, p99 and max per phase in milliseconds and their ratio to the {@code no-bridge} phase just before it, then what the writers waited for (sampled every 10 ms in {@code pg_stat_activity}; for a lock wait, the
 * statement it queues behind). Bridges run in this JVM with an in-memory sink. Arguments (optional): {@code
 * postgres=postgresql://postgres@127.0.0.1:5432/postgres seconds=20 outage-seconds=60 writers=16}.
 */
public final class SendLatencyBenchmark {
    private static final String SCHEMA = "pgbridge_bench_latency";
    private static final String SLOT = SCHEMA + "_outbox_1";
    private static final String WRITER_APPLICATION = "pgbridge-bench-writer";

    private SendLatencyBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args,
                "postgres=postgresql://postgres@127.0.0.1:5432/postgres",
                "seconds=20",
                "outage-seconds=60",
                "writers=16");
        String postgres = a.string("postgres");
        int seconds = a.integer("seconds");
        int outageSeconds = a.integer("outage-seconds");
        int writers = a.integer("writers");
        JdbcTarget target = JdbcTarget.of(postgres);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(target.url());
        ds.setUser(target.user());
        System.out.printf(
                Locale.ROOT,
                "Send latency benchmark: %d writers, phases of %d s (outages %d s), %d cores%n",
                writers,
                seconds,
                outageSeconds,
                Runtime.getRuntime().availableProcessors());
        try (Connection admin = ds.getConnection();
                Statement st = admin.createStatement()) {
            cleanUp(st);
            PgBridgeSchema.migrate(ds, SCHEMA);
            Writers w = new Writers(target, writers);
            long[] base;

            // The same polling bridge delivering every event, with no partition to create or drop: what the
            // maintenance phase costs beyond this is the partition work.
            base = baseline(w, seconds);
            try (PgBridge bridge = bridge(postgres, "polling", new InMemorySink(), Map.of())) {
                w.startMeasuring();
                bridge.start();
                print("polling-delivering", w.measureRest(seconds), base, w.waits());
            }

            base = baseline(w, seconds);
            st.execute(preparePartitionWork());
            try (PgBridge bridge = bridge(
                    postgres,
                    "polling",
                    new InMemorySink(),
                    Map.of("outbox.partitions-ahead-days", "30", "outbox.maintenance-interval-ms", "1000"))) {
                w.startMeasuring();
                bridge.start();
                print("maintenance", w.measureRest(seconds), base, w.waits());
            }

            for (String mode : List.of("polling", "streaming")) {
                if (mode.equals("streaming")) {
                    // Between phases: a slot whose backlog is small, so that the phase measures streaming, not the
                    // delivery of the first start's backlog.
                    st.execute("truncate " + SCHEMA + ".events");
                    try (PgBridge creating = bridge(postgres, mode, new InMemorySink(), Map.of())) {
                        creating.start();
                    }
                }
                base = baseline(w, seconds);
                InMemorySink sink = new InMemorySink();
                sink.setAvailable(false);
                try (PgBridge bridge = bridge(postgres, mode, sink, Map.of())) {
                    bridge.start();
                    print("sink-down-" + mode, w.measure(outageSeconds), base, w.waits());
                    sink.setAvailable(true);
                }
            }

            base = baseline(w, seconds);
            AtomicBoolean measuring = new AtomicBoolean(true);
            List<String> failures = new ArrayList<>();
            String url = postgres;
            Thread starter = new Thread(() -> {
                while (measuring.get()) {
                    for (String mode : List.of("polling", "streaming")) {
                        try (PgBridge bridge = bridge(url, mode, new InMemorySink(), Map.of())) {
                            bridge.start();
                        } catch (RuntimeException e) {
                            failures.add(e.toString());
                        }
                    }
                }
            });
            w.startMeasuring();
            starter.start();
            long[] starting = w.measureRest(seconds);
            measuring.set(false);
            starter.join();
            print("bridge-starting", starting, base, w.waits());
            if (!failures.isEmpty()) {
                System.out.println("bridge starts that failed: " + failures);
            }
            w.close();
            cleanUp(st);
        }
    }

    /** A no-bridge phase, measured before each scenario: the machine is shared, so compare neighbours. */
    private static long[] baseline(Writers w, int seconds) throws InterruptedException {
        long[] base = w.measure(seconds);
        print("no-bridge", base, base, w.waits());
        return base;
    }

    private static PgBridge bridge(String postgres, String mode, InMemorySink sink, Map<String, String> extra) {
        return PgBridge.builder()
                .postgres(postgres)
                .routes("bench->queue:bench")
                .sink(sink)
                .source("outbox")
                .setting("outbox.mode", mode)
                .setting("outbox.schema", SCHEMA)
                .settings(extra)
                .build();
    }

    /** Drops the partitions from tomorrow on and creates 10 expired empty ones: work for the first maintenance run. */
    private static String preparePartitionWork() {
        StringBuilder sql = new StringBuilder();
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        for (int d = 1; d <= 3; d++) {
            sql.append("drop table if exists ")
                    .append(SCHEMA)
                    .append('.')
                    .append(partition(today.plusDays(d)))
                    .append(";");
        }
        for (int d = 20; d < 30; d++) {
            LocalDate day = today.minusDays(d);
            sql.append("create table ")
                    .append(SCHEMA)
                    .append('.')
                    .append(partition(day))
                    .append(" partition of ")
                    .append(SCHEMA)
                    .append(".events for values from ('")
                    .append(day)
                    .append(" 00:00+00') to ('")
                    .append(day.plusDays(1))
                    .append(" 00:00+00');");
        }
        return sql.toString();
    }

    private static String partition(LocalDate day) {
        return "events_" + day.format(DateTimeFormatter.BASIC_ISO_DATE);
    }

    private static void print(String phase, long[] nanos, long[] base, String waits) {
        Arrays.sort(nanos);
        Arrays.sort(base);
        System.out.printf(
                Locale.ROOT,
                "%-20s sends=%7d p50_ms=%7.2f p99_ms=%8.2f max_ms=%9.2f p50_ratio=%5.2f p99_ratio=%6.2f"
                        + " max_ratio=%7.2f%n",
                phase,
                nanos.length,
                ms(at(nanos, 0.50)),
                ms(at(nanos, 0.99)),
                ms(nanos[nanos.length - 1]),
                at(nanos, 0.50) / (double) at(base, 0.50),
                at(nanos, 0.99) / (double) at(base, 0.99),
                nanos[nanos.length - 1] / (double) base[base.length - 1]);
        System.out.println(waits);
    }

    private static long at(long[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static void cleanUp(Statement st) throws Exception {
        st.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '" + SLOT
                + "' and not active");
        st.execute("drop publication if exists " + SLOT);
        st.execute("drop schema if exists " + SCHEMA + " cascade");
    }

    /** Writers calling {@code send} in a loop on their own connections, recording each call's latency. */
    private static final class Writers {
        private final List<Thread> threads = new ArrayList<>();
        private final List<List<Long>> samples = new ArrayList<>();
        private volatile boolean recording;
        private volatile boolean running = true;
        private final WaitSampler sampler;
        private String waits = "";
        private long startedAt;

        Writers(JdbcTarget target, int count) throws Exception {
            sampler = new WaitSampler(target.connect(), WRITER_APPLICATION, 10);
            for (int i = 0; i < count; i++) {
                Properties props = new Properties();
                props.setProperty("user", target.user());
                props.setProperty("ApplicationName", WRITER_APPLICATION);
                Connection c = DriverManager.getConnection(target.url(), props);
                PreparedStatement send = c.prepareStatement("select " + SCHEMA
                        + ".send('bench', jsonb_build_object('w', ?::int, 'pad', repeat('x', 150)))");
                send.setInt(1, i);
                List<Long> mine = new ArrayList<>();
                samples.add(mine);
                Thread t = new Thread(() -> {
                    try (c) {
                        while (running) {
                            long start = System.nanoTime();
                            send.execute();
                            long took = System.nanoTime() - start;
                            if (recording) {
                                synchronized (mine) {
                                    mine.add(took);
                                }
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                t.setName("writer-" + i);
                t.start();
                threads.add(t);
            }
        }

        void startMeasuring() {
            for (List<Long> s : samples) {
                synchronized (s) {
                    s.clear();
                }
            }
            sampler.reset();
            startedAt = System.nanoTime();
            recording = true;
        }

        long[] measure(int seconds) throws InterruptedException {
            startMeasuring();
            return measureRest(seconds);
        }

        /** Records until {@code seconds} after {@link #startMeasuring}; the latencies in ns. */
        long[] measureRest(int seconds) throws InterruptedException {
            long left = startedAt + seconds * 1_000_000_000L - System.nanoTime();
            if (left > 0) {
                Thread.sleep(left / 1_000_000L); // the phase's length: the measurement itself
            }
            recording = false;
            waits = sampler.takeSummary();
            List<Long> all = new ArrayList<>();
            for (List<Long> s : samples) {
                synchronized (s) {
                    all.addAll(s);
                }
            }
            return all.stream().mapToLong(Long::longValue).toArray();
        }

        /** What the writers waited for during the last measurement, sampled in pg_stat_activity. */
        String waits() {
            return waits;
        }

        void close() throws InterruptedException {
            sampler.close();
            running = false;
            for (Thread t : threads) {
                t.join();
            }
        }
    }
}
