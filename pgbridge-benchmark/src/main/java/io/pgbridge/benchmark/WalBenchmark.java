package io.pgbridge.benchmark;

import com.rabbitmq.client.ConnectionFactory;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
    private static final Pattern EVENTS_PER_SECOND = Pattern.compile("events_per_s=([0-9.]+)");

    private WalBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rows = 200_000;
        int perTxn = 1_000;
        int writers = 1;
        String postgres = "postgresql://postgres@127.0.0.1:5432/postgres";
        String amqp = "amqp://guest:guest@127.0.0.1:5672/%2f";
        List<String> modes = new ArrayList<>(List.of("bare", "memory", "amqp", "amqp-strict"));
        List<String> jvm = new ArrayList<>(JVM);
        for (String a : args) {
            String value = a.substring(a.indexOf('=') + 1);
            switch (a.substring(0, a.indexOf('='))) {
                case "rows" -> rows = Integer.parseInt(value);
                case "txn" -> perTxn = Integer.parseInt(value);
                case "writers" -> writers = Integer.parseInt(value);
                case "postgres" -> postgres = value;
                case "amqp" -> amqp = value;
                case "only" -> modes = List.of(value.split(","));
                case "jvm" -> jvm.addAll(List.of(value.split(" ")));
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
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
        dropSlot(c, slot);
        RowProducer.createTable(c, TABLE);
        c.createStatement().execute("DROP PUBLICATION IF EXISTS " + slot);
        c.createStatement().execute("CREATE PUBLICATION " + slot + " FOR TABLE " + TABLE);
        c.createStatement().execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        String queue = slot;
        boolean toAmqp = mode.startsWith("amqp");
        if (toAmqp) {
            amqpQueue(amqp, queue, true);
        }
        double producerRate = 0;
        if (!live) {
            producerRate = RowProducer.insert(c, target, TABLE, rows, perTxn, writers);
        }
        List<String> args = new ArrayList<>(
                List.of(mode, postgres, target.url(), target.user(), slot, TABLE, Integer.toString(rows)));
        if (toAmqp) {
            args.addAll(List.of(amqp, queue));
        }
        String result;
        try (ChildJvm child = new ChildJvm(jvm, WalBenchmarkRun.class, args)) {
            child.awaitLine("READY");
            if (live) {
                producerRate = RowProducer.insert(c, target, TABLE, rows, perTxn, writers);
            }
            result = child.awaitLine("RESULT");
        } finally {
            dropSlot(c, slot);
            c.createStatement().execute("DROP PUBLICATION IF EXISTS " + slot);
            if (toAmqp) {
                amqpQueue(amqp, queue, false);
            }
        }
        System.out.printf(
                Locale.ROOT,
                "%-7s %-7s producer_rows_per_s=%.0f %s%n",
                live ? "live" : "backlog",
                mode,
                producerRate,
                result);
        Matcher rate = EVENTS_PER_SECOND.matcher(result);
        if (!rate.find()) {
            throw new IllegalStateException("no events_per_s in the reader's result: " + result);
        }
        return Double.parseDouble(rate.group(1));
    }

    private static void dropSlot(Connection c, String slot) throws Exception {
        c.createStatement()
                .execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots " + "WHERE slot_name = '"
                        + slot + "' AND NOT active");
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
