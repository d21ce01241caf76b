package io.pgbridge.benchmark;

import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.sql.PgBridgeSchema;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The outbox on a real PostgreSQL: {@code rows} events (default 200,000) in transactions of 1,000, written (a) with
 * {@code pgbridge.send} and (b) by a trigger generated from a subscription, and delivered by the outbox source in
 * streaming and in polling mode, to an in-memory (counting) sink and to RabbitMQ. Each bridge runs in a JVM of its own
 * ({@code -Xmx128m}). Prints one line per run. Commit-to-confirm latency needs the commit time, which only streaming
 * mode knows (pgoutput); polling mode reports 0 for it.
 *
 * <p>Timings: {@code live} delivers the events while they are written, so its rate is at most the producer's;
 * {@code backlog} writes them all first and then starts the bridge, so its rate is the bridge's own. In streaming mode
 * a backlog is read from the WAL: a bridge ran once before (creating the slot) and stopped, as after a restart.
 *
 * <p>Arguments (all optional): {@code rows=200000 txn=1000 postgres=postgresql://postgres@127.0.0.1:5432/postgres
 * amqp=amqp://guest:guest@127.0.0.1:5672/%2f modes=streaming,polling sinks=memory,amqp writers=send,trigger
 * timings=live sessions=1} ({@code amqp=none} skips RabbitMQ; {@code timings=live,backlog} adds the backlog runs;
 * {@code sessions} writes from that many connections at once).
 */
public final class OutboxBenchmark {
    private static final String SCHEMA = "pgbridge_bench_outbox";
    private static final String TABLE = SCHEMA + "_app.rows";
    private static final String SLOT = SCHEMA + "_outbox_1";

    private OutboxBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args,
                "rows=200000",
                "txn=1000",
                "postgres=postgresql://postgres@127.0.0.1:5432/postgres",
                "amqp=amqp://guest:guest@127.0.0.1:5672/%2f",
                "modes=streaming,polling",
                "sinks=memory,amqp",
                "writers=send,trigger",
                "timings=live",
                "sessions=1");
        int rows = a.integer("rows");
        int sessions = a.integer("sessions");
        int perTxn = a.integer("txn");
        String postgres = a.string("postgres");
        String amqp = a.string("amqp");
        List<String> modes = a.list("modes", List.of("streaming", "polling"));
        List<String> sinks = a.list("sinks", List.of("memory", "amqp"));
        List<String> writers = a.list("writers", List.of("send", "trigger"));
        List<String> timings = a.list("timings", List.of("live", "backlog"));
        if (amqp.equals("none")) {
            sinks = sinks.stream().filter(s -> !s.equals("amqp")).toList();
        }
        JdbcTarget target = JdbcTarget.of(postgres);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(target.url());
        ds.setUser(target.user());
        System.out.printf(
                Locale.ROOT,
                "Outbox benchmark: %d events in transactions of %d from %d session(s), %d cores%n",
                rows,
                perTxn,
                sessions,
                Runtime.getRuntime().availableProcessors());
        for (String timing : timings) {
            for (String mode : modes) {
                for (String writer : writers) {
                    for (String sink : sinks) {
                        run(ds, postgres, amqp, timing.equals("backlog"), mode, writer, sink, rows, perTxn, sessions);
                    }
                }
            }
        }
    }

    private static void run(
            PGSimpleDataSource ds,
            String postgres,
            String amqp,
            boolean backlog,
            String mode,
            String writer,
            String sink,
            int rows,
            int perTxn,
            int sessions)
            throws Exception {
        String queue = SCHEMA + "_" + mode + "_" + writer;
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            cleanUp(st);
            PgBridgeSchema.migrate(ds, SCHEMA);
            st.execute("create schema " + SCHEMA + "_app; create table " + TABLE
                    + " (id bigserial primary key, n int, pad text)");
            if (writer.equals("trigger")) {
                st.execute("insert into " + SCHEMA + ".subscriptions (key, operation, schema_name, table_name,"
                        + " column_names, channel) values ('bench', 'INSERT', '" + SCHEMA + "_app', 'rows',"
                        + " array['id', 'n', 'pad'], 'bench')");
            }
            if (sink.equals("amqp")) {
                amqpQueue(amqp, queue, true);
            }
            List<String> childArgs = new ArrayList<>(List.of(mode, sink, postgres, SCHEMA, Integer.toString(rows)));
            if (sink.equals("amqp")) {
                childArgs.addAll(List.of(amqp, queue));
            }
            if (backlog && mode.equals("streaming")) {
                List<String> once = new ArrayList<>(childArgs);
                once.set(4, "0"); // starts, creates the slot, stops
                try (ChildJvm child = new ChildJvm(List.of("-Xmx128m"), OutboxBenchmarkRun.class, once)) {
                    child.awaitLine("READY");
                }
            }
            double producerRate = backlog ? produce(ds, writer, rows, perTxn, sessions) : 0;
            String result;
            try (ChildJvm child = new ChildJvm(List.of("-Xmx128m"), OutboxBenchmarkRun.class, childArgs)) {
                child.awaitLine("READY");
                if (!backlog) {
                    producerRate = produce(ds, writer, rows, perTxn, sessions);
                }
                result = child.awaitLine("RESULT");
            }
            System.out.printf(
                    Locale.ROOT,
                    "%-7s %-9s %-7s %-6s producer_events_per_s=%.0f %s%n",
                    backlog ? "backlog" : "live",
                    mode,
                    writer,
                    sink,
                    producerRate,
                    result);
        } finally {
            try (Connection c = ds.getConnection();
                    Statement st = c.createStatement()) {
                cleanUp(st);
            }
            if (sink.equals("amqp")) {
                amqpQueue(amqp, queue, false);
            }
        }
    }

    /**
     * Writes the events in transactions of {@code perTxn} from {@code sessions} connections at once (session {@code s}
     * writes transactions {@code s, s + sessions, ...}); returns events per second.
     */
    private static double produce(PGSimpleDataSource ds, String writer, int rows, int perTxn, int sessions)
            throws Exception {
        String insert = writer.equals("send")
                ? "select " + SCHEMA + ".send('bench', jsonb_build_object('n', g, 'pad', repeat('x', 150)))"
                        + " from generate_series(1, " + perTxn + ") g"
                : "insert into " + TABLE + " (n, pad) select g, repeat('x', 150) from generate_series(1, " + perTxn
                        + ") g";
        int transactions = (rows + perTxn - 1) / perTxn;
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<Void>> done = new ArrayList<>();
            long start = System.nanoTime();
            for (int s = 0; s < sessions; s++) {
                int session = s;
                done.add(pool.submit(() -> {
                    try (Connection c = ds.getConnection();
                            Statement st = c.createStatement()) {
                        for (int t = session; t < transactions; t += sessions) {
                            st.execute(insert); // one statement, one transaction (auto-commit)
                        }
                    }
                    return null;
                }));
            }
            for (Future<Void> f : done) {
                f.get();
            }
            return (long) transactions * perTxn / ((System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void cleanUp(Statement st) throws Exception {
        st.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '" + SLOT
                + "' and not active");
        st.execute("drop publication if exists " + SLOT);
        st.execute("drop schema if exists " + SCHEMA + "_app cascade; drop schema if exists " + SCHEMA + " cascade");
    }

    private static void amqpQueue(String uri, String queue, boolean create) throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(uri);
        try (com.rabbitmq.client.Connection conn = f.newConnection("pgbridge-benchmark");
                com.rabbitmq.client.Channel ch = conn.createChannel()) {
            ch.queueDelete(queue);
            if (create) {
                ch.queueDeclare(queue, true, false, false, null);
            }
        }
    }
}
