package io.pgbridge.benchmark;

import io.pgbridge.sql.PgBridgeSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one {@code pgbridge.send()} call costs when an application makes it the way applications do, one call per
 * statement, against the bare loop of the same work: a prepared {@code INSERT} of the same row into the same outbox
 * table. Each statement is a round trip; {@code per-txn} of them make one transaction. Two schemas are installed side
 * by side: one with every script of pgbridge-sql, one with the scripts up to {@code old-version} (default 7, whose
 * {@code send()} is a SQL function), so that the current {@code send()} is measured against the older one in the same
 * run. Rounds interleave bare, current and old; prints microseconds per call (wall time, round trip included), the
 * median over the rounds, and the ratio to the bare insert.
 *
 * <p>Arguments (optional): {@code postgres=postgresql://postgres@127.0.0.1:5432/postgres calls=20000 per-txn=100
 * rounds=3 old-version=7}.
 */
public final class SendCallBenchmark {
    private static final String CURRENT = "pgbridge_bench_send";
    private static final String OLD = "pgbridge_bench_send_old";
    private static final String PAYLOAD = "{\"n\": 1, \"pad\": \"" + "x".repeat(150) + "\"}";

    private SendCallBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args,
                "postgres=postgresql://postgres@127.0.0.1:5432/postgres",
                "calls=20000",
                "per-txn=100",
                "rounds=3",
                "old-version=7");
        int calls = a.integer("calls");
        int perTxn = a.integer("per-txn");
        int oldVersion = a.integer("old-version");
        JdbcTarget target = JdbcTarget.of(a.string("postgres"));
        System.out.printf(Locale.ROOT, "Send call benchmark: %s%n", a.values());
        try (Connection c = target.connect()) {
            install(c, CURRENT, Integer.MAX_VALUE);
            install(c, OLD, oldVersion);
            List<String> names = List.of("bare INSERT", "send(), all scripts", "send(), scripts up to V" + oldVersion);
            List<String> statements = List.of(
                    "insert into " + CURRENT + ".events (channel, payload) values ('bench', ?::jsonb) returning id",
                    "select " + CURRENT + ".send('bench', ?::jsonb)",
                    "select " + OLD + ".send('bench', ?::jsonb)");
            double[][] micros = new double[statements.size()][a.integer("rounds")];
            for (int round = 0; round < micros[0].length; round++) {
                for (int i = 0; i < statements.size(); i++) {
                    micros[i][round] = microsPerCall(c, statements.get(i), calls, perTxn);
                    System.out.printf(
                            Locale.ROOT, "round %d %-26s %.1f us/call%n", round + 1, names.get(i), micros[i][round]);
                }
            }
            System.out.println();
            System.out.println("| statement, one per call | µs per call, median (min–max) | ratio to bare INSERT |");
            System.out.println("|---|---|---|");
            for (double[] m : micros) {
                Arrays.sort(m);
            }
            double bare = BenchmarkRounds.median(micros[0]);
            for (int i = 0; i < statements.size(); i++) {
                double[] m = micros[i];
                System.out.printf(
                        Locale.ROOT,
                        "| %s | %.1f (%.1f–%.1f) | %.2f |%n",
                        names.get(i),
                        BenchmarkRounds.median(m),
                        m[0],
                        m[m.length - 1],
                        BenchmarkRounds.median(m) / bare);
            }
            try (Statement st = c.createStatement()) {
                st.execute("drop schema " + CURRENT + " cascade; drop schema " + OLD + " cascade");
            }
        }
    }

    /** Installs pgbridge-sql's scripts up to {@code version} into a fresh {@code schema}, as a DBA would by hand. */
    private static void install(Connection c, String schema, int version) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("drop schema if exists " + schema + " cascade");
            for (Map.Entry<String, String> script :
                    PgBridgeSchema.scripts(schema).entrySet()) {
                int v = Integer.parseInt(
                        script.getKey().substring(1, script.getKey().indexOf("__")));
                if (v <= version) {
                    st.execute(script.getValue());
                }
            }
            st.execute("select " + schema + ".create_partitions()");
        }
    }

    /** Runs {@code calls} statements, {@code perTxn} per transaction; returns wall microseconds per statement. */
    private static double microsPerCall(Connection c, String sql, int calls, int perTxn) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, PAYLOAD);
            long start = System.nanoTime();
            for (int i = 1; i <= calls; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
                if (i % perTxn == 0 || i == calls) {
                    c.commit();
                }
            }
            return (System.nanoTime() - start) / 1e3 / calls;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
