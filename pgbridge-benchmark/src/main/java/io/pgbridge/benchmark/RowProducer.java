package io.pgbridge.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Inserts realistic rows (a uuid, a text, a numeric, a JSON payload of about 200 bytes and a timestamptz), in
 * transactions of a fixed size, as fast as one session (or several concurrent sessions) can.
 */
final class RowProducer {
    private RowProducer() {}

    /**
     * Creates {@code table (id bigint PRIMARY KEY, ref uuid, kind text, amount numeric(12,2), payload jsonb,
     * created_at timestamptz)}, dropping an older one.
     */
    static void createTable(Connection c, String table) throws SQLException {
        c.createStatement().execute("DROP TABLE IF EXISTS " + table);
        c.createStatement()
                .execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, ref uuid NOT NULL, kind text NOT NULL,"
                        + " amount numeric(12,2) NOT NULL, payload jsonb NOT NULL,"
                        + " created_at timestamptz NOT NULL DEFAULT clock_timestamp())");
    }

    /**
     * Inserts ids 1..rows in transactions of {@code perTransaction} rows.
     *
     * @return rows per second
     */
    static double insert(Connection c, String table, int rows, int perTransaction) throws SQLException {
        long start = System.nanoTime();
        insertRange(c, table, 1, rows, perTransaction);
        return rows / ((System.nanoTime() - start) / 1e9);
    }

    /**
     * Inserts ids 1..rows in transactions of {@code perTransaction} rows from {@code writers} concurrent sessions, each
     * on a connection of its own and each inserting one contiguous share of the ids (the last share may be shorter);
     * with one writer, on {@code c} as {@link #insert(Connection, String, int, int)} does.
     *
     * @return rows per second, from the first writer's start to the last one's end
     * @throws SQLException the first writer's failure
     */
    static double insert(Connection c, JdbcTarget target, String table, int rows, int perTransaction, int writers)
            throws SQLException, InterruptedException {
        if (writers <= 1) {
            return insert(c, table, rows, perTransaction);
        }
        int share = (rows + writers - 1) / writers;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            long start = System.nanoTime();
            List<Future<Void>> done = new ArrayList<>();
            for (int first = 1; first <= rows; first += share) {
                int from = first;
                int to = Math.min(rows, first + share - 1);
                done.add(pool.submit(() -> {
                    try (Connection own = target.connect()) {
                        insertRange(own, table, from, to, perTransaction);
                    }
                    return null;
                }));
            }
            for (Future<Void> f : done) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof SQLException s) {
                        throw s;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
            return rows / ((System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void insertRange(Connection c, String table, int firstId, int lastId, int perTransaction)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (id, ref, kind, amount, payload) SELECT g, gen_random_uuid(), 'order.created',"
                + " (g % 100000) / 100.0, jsonb_build_object("
                + "'customer', 'customer-' || (g % 5000), 'email', 'user' || g || '@example.com', "
                + "'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (g % 977), 'qty', g % 7 + 1), "
                + "jsonb_build_object('sku', 'SKU-' || (g % 313), 'qty', 1)), 'total', round((g % 10000) / 7.0, 2), "
                + "'note', md5(g::text)) FROM generate_series(?::bigint, ?::bigint) g")) {
            for (int first = firstId; first <= lastId; first += perTransaction) {
                ps.setInt(1, first);
                ps.setInt(2, Math.min(lastId, first + perTransaction - 1));
                ps.executeUpdate(); // auto-commit: one transaction per statement
            }
        }
    }
}
