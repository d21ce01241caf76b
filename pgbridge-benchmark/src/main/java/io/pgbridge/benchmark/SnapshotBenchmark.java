package io.pgbridge.benchmark;

import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.io.OutputStream;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.postgresql.PGConnection;

/**
 * The initial snapshot ({@code wal.snapshot=initial}) of a table of {@code rows} rows of the WAL benchmark's shape
 * (about 200 bytes of JSON each; default 1,000,000) into memory, beside a bare {@code COPY ... TO STDOUT} of the same
 * table that only counts bytes. The bridge runs in a JVM of its own ({@code -Xmx128m}) with a sink that only counts,
 * so its peak RSS is the bridge's; it prints rows/s from the start of the bridge to the last row confirmed (slot
 * creation included). Run it for several sizes ({@code rows=200000,1000000}) to see that RSS does not grow with the
 * table.
 *
 * <p>Arguments (all optional): {@code rows=1000000[,...] postgres=postgresql://postgres@127.0.0.1:5432/postgres
 * jvm="-XX:..."}. Internally, {@code child <postgres> <slot> <table> <rows>} is the bridge's JVM.
 */
public final class SnapshotBenchmark {
    private static final String SCHEMA = "pgbridge_bench";
    private static final String TABLE = SCHEMA + ".snapshot_rows";
    private static final String SLOT = "pgbridge_bench_snapshot";

    private SnapshotBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child")) {
            child(args[1], args[2], args[3], Long.parseLong(args[4]));
            return;
        }
        BenchmarkArgs a = BenchmarkArgs.parse(
                args, List.of("jvm"), "rows=1000000", "postgres=postgresql://postgres@127.0.0.1:5432/postgres");
        List<Integer> sizes = a.integers("rows");
        String postgres = a.string("postgres");
        List<String> jvm = new ArrayList<>(List.of("-Xmx128m"));
        jvm.addAll(a.words("jvm"));
        JdbcTarget target = JdbcTarget.of(postgres);
        System.out.printf(
                Locale.ROOT,
                "Snapshot benchmark: %s rows, %d cores%n",
                sizes,
                Runtime.getRuntime().availableProcessors());
        try (Connection c = target.connect()) {
            c.createStatement().execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            for (int rows : sizes) {
                RowProducer.REALISTIC.createTable(c, TABLE);
                RowProducer.REALISTIC.insert(c, TABLE, rows, 100_000, 0);
                c.createStatement().execute("VACUUM ANALYZE " + TABLE);
                double copy = copy(c, rows);
                String result;
                clean(c);
                try (ChildJvm child = new ChildJvm(
                        jvm,
                        SnapshotBenchmark.class,
                        List.of("child", postgres, SLOT, TABLE, Integer.toString(rows)))) {
                    result = child.awaitLine("RESULT");
                } finally {
                    clean(c);
                }
                System.out.printf(Locale.ROOT, "rows=%d copy_rows_per_s=%.0f snapshot %s%n", rows, copy, result);
            }
            c.createStatement().execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
    }

    /** {@code COPY table TO STDOUT}, counting bytes; returns rows per second. */
    private static double copy(Connection c, int rows) throws Exception {
        long[] bytes = {0};
        OutputStream counting = new OutputStream() {
            @Override
            public void write(int b) {
                bytes[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                bytes[0] += len;
            }
        };
        long start = System.nanoTime();
        long copied = c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY " + TABLE + " TO STDOUT", counting);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (copied != rows) {
            throw new IllegalStateException("COPY returned " + copied + " rows, not " + rows);
        }
        return rows / seconds;
    }

    private static void clean(Connection c) throws Exception {
        c.createStatement()
                .execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '"
                        + SLOT + "' AND NOT active");
        c.createStatement().execute("DROP PUBLICATION IF EXISTS " + SLOT);
        try (java.sql.ResultSet rs =
                c.createStatement().executeQuery("SELECT to_regclass('pgbridge_snapshot') IS NOT NULL")) {
            if (rs.next() && rs.getBoolean(1)) {
                c.createStatement().execute("DELETE FROM pgbridge_snapshot WHERE slot = '" + SLOT + "'");
            }
        }
    }

    /** The bridge's JVM: takes the snapshot into a counting sink and prints {@code RESULT ...}. */
    private static void child(String postgres, String slot, String table, long rows) throws Exception {
        CountingSink sink = new CountingSink(rows);
        long start = System.nanoTime();
        try (PgBridge bridge = PgBridge.builder()
                .postgres(postgres)
                .routes(table + "->queue:bench")
                .sink(sink)
                .setting("replication.slot", slot)
                .setting("wal.snapshot", "initial")
                .shutdownTimeout(Duration.ofSeconds(60))
                .build()) {
            bridge.start();
            sink.await();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "RESULT rows_per_s=%.0f seconds=%.2f mib_of_json=%.0f peak_rss_mib=%.0f cpu_s=%.2f%n",
                    rows / seconds,
                    seconds,
                    sink.bytes / (1024.0 * 1024),
                    ProcessStats.peakRssMib(),
                    ProcessStats.cpuSeconds());
        }
    }

    /** Confirms at once and counts events and bytes. */
    private static final class CountingSink implements Sink {
        private final long expected;
        private long count;
        private long bytes;

        CountingSink(long expected) {
            this.expected = expected;
        }

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public Set<String> targetKinds() {
            return Set.of();
        }

        @Override
        public void start() {}

        @Override
        public synchronized PublishResult publish(Target target, List<Event> events) {
            for (Event e : events) {
                bytes += e.payload().length;
            }
            count += events.size();
            if (count >= expected) {
                notifyAll();
            }
            return PublishResult.confirmed(events.size());
        }

        synchronized void await() throws InterruptedException {
            while (count < expected) {
                wait();
            }
        }

        @Override
        public void close() {}
    }
}
