package io.pgbridge.benchmark;

import com.rabbitmq.client.ConnectionFactory;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The WAL path on a real PostgreSQL: {@code rows} rows (default 200,000) with a ~200-byte JSON payload inserted in
 * transactions of 1,000, read (a) live, while they are inserted, and (b) from a backlog, inserted before the reader
 * starts; through the bridge to an in-memory (counting) sink, through the bridge to RabbitMQ, and by a bare pgjdbc
 * loop that only counts pgoutput messages. Each reader runs in a JVM of its own ({@code -Xmx128m}), so its peak RSS
 * and CPU time are its own. Prints one line per run.
 *
 * <p>Arguments (all optional): {@code rows=200000 txn=1000 postgres=postgresql://postgres@127.0.0.1:5432/postgres
 * amqp=amqp://guest:guest@127.0.0.1:5672/%2f} ({@code amqp=none} skips RabbitMQ).
 */
public final class WalBenchmark {
    private static final String SCHEMA = "pgbridge_bench";
    private static final String TABLE = SCHEMA + ".wal_rows";
    private static final List<String> JVM = List.of("-Xmx128m");

    private WalBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rows = 200_000;
        int perTxn = 1_000;
        String postgres = "postgresql://postgres@127.0.0.1:5432/postgres";
        String amqp = "amqp://guest:guest@127.0.0.1:5672/%2f";
        for (String a : args) {
            String value = a.substring(a.indexOf('=') + 1);
            switch (a.substring(0, a.indexOf('='))) {
                case "rows" -> rows = Integer.parseInt(value);
                case "txn" -> perTxn = Integer.parseInt(value);
                case "postgres" -> postgres = value;
                case "amqp" -> amqp = value;
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        URI uri = URI.create(postgres);
        String user = uri.getUserInfo() == null ? "postgres" : uri.getUserInfo().split(":")[0];
        String jdbc =
                "jdbc:postgresql://" + uri.getHost() + ":" + (uri.getPort() < 0 ? 5432 : uri.getPort()) + uri.getPath();
        System.out.printf(
                Locale.ROOT,
                "WAL benchmark: %d rows in transactions of %d, %d cores%n",
                rows,
                perTxn,
                Runtime.getRuntime().availableProcessors());
        List<String> modes = new ArrayList<>(List.of("bare", "memory"));
        if (!amqp.equals("none")) {
            modes.add("amqp");
        }
        try (Connection c = DriverManager.getConnection(jdbc, user, null)) {
            c.createStatement().execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            for (boolean live : new boolean[] {true, false}) {
                for (String mode : modes) {
                    run(c, mode, live, rows, perTxn, postgres, jdbc, user, amqp);
                }
            }
            c.createStatement().execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
    }

    private static void run(
            Connection c,
            String mode,
            boolean live,
            int rows,
            int perTxn,
            String postgres,
            String jdbc,
            String user,
            String amqp)
            throws Exception {
        String slot = "pgbridge_bench_" + mode + (live ? "_live" : "_backlog");
        dropSlot(c, slot);
        RowProducer.createTable(c, TABLE);
        c.createStatement().execute("DROP PUBLICATION IF EXISTS " + slot);
        c.createStatement().execute("CREATE PUBLICATION " + slot + " FOR TABLE " + TABLE);
        c.createStatement().execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        String queue = slot;
        if (mode.equals("amqp")) {
            amqpQueue(amqp, queue, true);
        }
        double producerRate = 0;
        if (!live) {
            producerRate = RowProducer.insert(c, TABLE, rows, perTxn);
        }
        List<String> args = new ArrayList<>(List.of(mode, postgres, jdbc, user, slot, TABLE, Integer.toString(rows)));
        if (mode.equals("amqp")) {
            args.addAll(List.of(amqp, queue));
        }
        String result;
        try (ChildJvm child = new ChildJvm(JVM, WalBenchmarkRun.class, args)) {
            child.awaitLine("READY");
            if (live) {
                producerRate = RowProducer.insert(c, TABLE, rows, perTxn);
            }
            result = child.awaitLine("RESULT");
        } finally {
            dropSlot(c, slot);
            c.createStatement().execute("DROP PUBLICATION IF EXISTS " + slot);
            if (mode.equals("amqp")) {
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
