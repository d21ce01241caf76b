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

/** Inserts rows of one table shape in transactions of a fixed size, as fast as one session (or several) can. */
enum RowProducer {
    /**
     * A realistic row: {@code (id bigint PRIMARY KEY, ref uuid, kind text, amount numeric(12,2), payload jsonb,
     * created_at timestamptz)}, with a JSON payload of about 200 bytes.
     */
    REALISTIC(
            "id bigint PRIMARY KEY, ref uuid NOT NULL, kind text NOT NULL, amount numeric(12,2) NOT NULL,"
                    + " payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp()",
            "(id, ref, kind, amount, payload) SELECT g, gen_random_uuid(), 'order.created',"
                    + " (g % 100000) / 100.0, jsonb_build_object("
                    + "'customer', 'customer-' || (g % 5000), 'email', 'user' || g || '@example.com', "
                    + "'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (g % 977), 'qty', g % 7 + 1), "
                    + "jsonb_build_object('sku', 'SKU-' || (g % 313), 'qty', 1)), 'total', round((g % 10000) / 7.0, 2), "
                    + "'note', md5(g::text))"),
    /**
     * A wide row, one column of each common type: {@code (id bigint PRIMARY KEY, n int, amount numeric(20,6), note
     * text, code varchar(32), flag bool, ref uuid, at timestamptz, day date, doc jsonb, blob bytea, tags text[])}, about
     * 300 bytes of text output.
     */
    WIDE(
            "id bigint PRIMARY KEY, n int NOT NULL, amount numeric(20,6) NOT NULL, note text NOT NULL,"
                    + " code varchar(32) NOT NULL, flag bool NOT NULL, ref uuid NOT NULL,"
                    + " at timestamptz NOT NULL DEFAULT clock_timestamp(), day date NOT NULL, doc jsonb NOT NULL,"
                    + " blob bytea NOT NULL, tags text[] NOT NULL",
            "(id, n, amount, note, code, flag, ref, day, doc, blob, tags) SELECT g, (g % 100000)::int,"
                    + " (g || '.' || lpad((g % 1000000)::text, 6, '0'))::numeric, 'note for ' || md5(g::text),"
                    + " 'C-' || (g % 977), g % 2 = 0, gen_random_uuid(), date '2020-01-01' + (g % 3650)::int,"
                    + " jsonb_build_object('customer', g % 5000, 'tags', jsonb_build_array('a', 'b'), 'total',"
                    + " round((g % 10000) / 7.0, 2)), decode(md5(g::text), 'hex'),"
                    + " ARRAY['red', 'tag-' || (g % 13), 'with \"quotes\", commas']");

    private final String columns;
    private final String insert;

    RowProducer(String columns, String insert) {
        this.columns = columns;
        this.insert = insert;
    }

    /** Creates {@code table} of this shape, dropping an older one. */
    void createTable(Connection c, String table) throws SQLException {
        c.createStatement().execute("DROP TABLE IF EXISTS " + table);
        c.createStatement().execute("CREATE TABLE " + table + " (" + columns + ")");
    }

    /**
     * Inserts ids 1..rows in transactions of {@code perTransaction} rows, on {@code c}.
     *
     * @param rate the offered load, rows per second; 0: as fast as the session can
     * @return rows per second
     */
    double insert(Connection c, String table, int rows, int perTransaction, double rate) throws SQLException {
        long start = System.nanoTime();
        insertBlocks(c, table, rows, perTransaction, 0, 1, rate);
        return rows / ((System.nanoTime() - start) / 1e9);
    }

    /**
     * Inserts ids 1..rows in transactions of {@code perTransaction} rows from {@code writers} concurrent sessions of
     * their own: writer {@code w} inserts the blocks of ids {@code w, w + writers, ...}.
     *
     * @param rate the offered load of all writers together, rows per second; 0: as fast as they can
     * @return rows per second, from the first writer's start to the last one's end
     */
    double insert(JdbcTarget target, String table, int rows, int perTransaction, int writers, double rate)
            throws SQLException, InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Void>> done = new ArrayList<>();
            List<Connection> connections = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                connections.add(target.connect());
            }
            long start = System.nanoTime();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    try (Connection c = connections.get(writer)) {
                        insertBlocks(c, table, rows, perTransaction, writer, writers, rate / writers);
                    }
                    return null;
                }));
            }
            for (Future<Void> f : done) {
                f.get();
            }
            return rows / ((System.nanoTime() - start) / 1e9);
        } catch (ExecutionException e) {
            throw new SQLException("a writer failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private void insertBlocks(
            Connection c, String table, int rows, int perTransaction, int writer, int writers, double rate)
            throws SQLException {
        Pace pace = new Pace(rate);
        long sent = 0;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO " + table + " " + insert + " FROM generate_series(?::bigint, ?::bigint) g")) {
            for (int first = 1 + writer * perTransaction; first <= rows; first += writers * perTransaction) {
                pace.awaitDue(sent);
                int last = Math.min(rows, first + perTransaction - 1);
                ps.setInt(1, first);
                ps.setInt(2, last);
                ps.executeUpdate(); // auto-commit: one transaction per statement
                sent += last - first + 1;
            }
        }
    }
}
