package io.pgbridge.benchmark;

import com.rabbitmq.client.ConnectionFactory;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The WAL path on a real PostgreSQL: {@code rows} rows (default 200,000) with a ~200-byte JSON payload inserted in
 * transactions of 1,000, read (a) live, while they are inserted, and (b) from a backlog, inserted before the reader
 * starts; through the bridge to an in-memory (counting) sink, through the bridge to RabbitMQ, and by a bare pgjdbc
 * loop that only counts pgoutput messages; and through the bridge to RabbitMQ with {@code delivery.strict-order}
 * (one event in flight per route), to measure what strict order costs. Each reader runs in a JVM of its own
 * ({@code -Xmx128m}), so its peak RSS and CPU time are its own. Prints one line per run, and, when both RabbitMQ
 * readers ran, a {@code strict-order} line per phase: events/s with and without strict order and their ratio.
 *
 * <p>Arguments (all optional): {@code rows=200000 txn=1000 writers=1
 * postgres=postgresql://postgres@127.0.0.1:5432/postgres amqp=amqp://guest:guest@127.0.0.1:5672/%2f
 * only=bare,memory,amqp,amqp-strict jvm="-XX:..."} ({@code writers} inserts from that many concurrent sessions, each
 * its share of the rows: workload W2 is {@code rows=20000 txn=1 writers=4}, 20,000 single-row transactions from 4
 * writers; {@code amqp=none} skips RabbitMQ; {@code only} picks readers, in the order given, and a {@code -metrics} suffix (such as {@code
 * only=memory,memory-metrics}) runs a reader with a Micrometer registry; {@code jvm} adds options to the readers'
 * JVMs).
 */
public final class WalBenchmark {
    private static final String SCHEMA = "pgbridge_bench";
    private static final String TABLE = SCHEMA + ".wal_rows";
    private static final List<String> JVM = List.of("-Xmx128m");
    /** The bridge readers {@code only} picks among besides {@code bare}, each also with a {@code -metrics} suffix. */
    private static final List<String> BRIDGE_READERS = List.of("memory", "amqp", "amqp-strict");

    private WalBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args,
                List.of("jvm"),
                "rows=200000",
                "txn=1000",
                "writers=1",
                "postgres=postgresql://postgres@127.0.0.1:5432/postgres",
                "amqp=amqp://guest:guest@127.0.0.1:5672/%2f",
                "only=bare," + String.join(",", BRIDGE_READERS));
        int rows = a.integer("rows");
        int perTxn = a.integer("txn");
        int writers = a.integer("writers");
        String postgres = a.string("postgres");
        String amqp = a.string("amqp");
        List<String> modes = a.list(
                "only",
                Stream.concat(Stream.of("bare"), BRIDGE_READERS.stream().flatMap(r -> Stream.of(r, r + "-metrics")))
                        .toList());
        List<String> jvm = new ArrayList<>(JVM);
        jvm.addAll(a.words("jvm"));
        JdbcTarget target = JdbcTarget.of(postgres);
        System.out.printf(
                Locale.ROOT,
                "WAL benchmark: %d rows in transactions of %d from %d writer(s), %d cores%n",
                rows,
                perTxn,
                writers,
                Runtime.getRuntime().availableProcessors());
        if (amqp.equals("none")) {
            modes = modes.stream().filter(m -> !m.startsWith("amqp")).toList();
        }
        try (Connection c = target.connect()) {
            c.createStatement().execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            for (boolean live : new boolean[] {true, false}) {
                Map<String, Double> eventsPerSecond = new HashMap<>();
                for (String mode : modes) {
                    eventsPerSecond.put(mode, run(c, mode, live, rows, perTxn, writers, postgres, target, amqp, jvm));
                }
                if (eventsPerSecond.containsKey("amqp") && eventsPerSecond.containsKey("amqp-strict")) {
                    double batched = eventsPerSecond.get("amqp");
                    double strict = eventsPerSecond.get("amqp-strict");
                    System.out.printf(
                            Locale.ROOT,
                            "%-7s strict-order amqp_events_per_s=%.0f amqp_strict_events_per_s=%.0f ratio=%.3f%n",
                            live ? "live" : "backlog",
                            batched,
                            strict,
                            strict / batched);
                }
            }
            c.createStatement().execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
    }

    /** Runs one reader and prints its line; returns its events per second. */
    private static double run(
            Connection c,
            String mode,
            boolean live,
            int rows,
            int perTxn,
            int writers,
            String postgres,
            JdbcTarget target,
            String amqp,
            List<String> jvm)
            throws Exception {
        String slot = "pgbridge_bench_" + mode.replace('-', '_') + (live ? "_live" : "_backlog");
        RowProducer.REALISTIC.createTable(c, TABLE);
        String result;
        double producerRate = 0;
        try (BenchSlot ignored = new BenchSlot(c, slot, TABLE)) {
            String queue = slot;
            boolean toAmqp = mode.startsWith("amqp");
            if (toAmqp) {
                amqpQueue(amqp, queue, true);
            }
            if (!live) {
                producerRate = RowProducer.REALISTIC.insert(target, TABLE, rows, perTxn, writers, 0);
            }
            List<String> args = new ArrayList<>(
                    List.of(mode, postgres, target.url(), target.user(), slot, TABLE, Integer.toString(rows)));
            if (toAmqp) {
                args.addAll(List.of(amqp, queue));
            }
            try (ChildJvm child = new ChildJvm(jvm, WalBenchmarkRun.class, args)) {
                child.awaitLine("READY");
                if (live) {
                    producerRate = RowProducer.REALISTIC.insert(target, TABLE, rows, perTxn, writers, 0);
                }
                result = child.awaitLine("RESULT");
            } finally {
                if (toAmqp) {
                    amqpQueue(amqp, queue, false);
                }
            }
        }
        System.out.printf(
                Locale.ROOT,
                "%-7s %-7s producer_rows_per_s=%.0f %s%n",
                live ? "live" : "backlog",
                mode,
                producerRate,
                result);
        return RunResult.parse(result).get("events_per_s");
    }

    private static void amqpQueue(String uri, String queue, boolean create) throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(uri);
        try (com.rabbitmq.client.Connection conn = f.newConnection("pgbridge-benchmark");
                com.rabbitmq.client.Channel ch = conn.createChannel()) {
            if (create) {
                ch.queueDelete(queue);
                ch.queueDeclare(queue, true, false, false, null);
            } else {
                ch.queueDelete(queue);
            }
        }
    }
}
