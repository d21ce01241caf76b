package io.pgbridge.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Inserts realistic rows (a uuid, a text, a numeric, a JSON payload of about 200 bytes and a timestamptz), in
 * transactions of a fixed size, as fast as one session can.
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
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (id, ref, kind, amount, payload) SELECT g, gen_random_uuid(), 'order.created',"
                + " (g % 100000) / 100.0, jsonb_build_object("
                + "'customer', 'customer-' || (g % 5000), 'email', 'user' || g || '@example.com', "
                + "'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (g % 977), 'qty', g % 7 + 1), "
                + "jsonb_build_object('sku', 'SKU-' || (g % 313), 'qty', 1)), 'total', round((g % 10000) / 7.0, 2), "
                + "'note', md5(g::text)) FROM generate_series(?::bigint, ?::bigint) g")) {
            for (int first = 1; first <= rows; first += perTransaction) {
                ps.setInt(1, first);
                ps.setInt(2, Math.min(rows, first + perTransaction - 1));
                ps.executeUpdate(); // auto-commit: one transaction per statement
            }
        }
        return rows / ((System.nanoTime() - start) / 1e9);
    }
}
