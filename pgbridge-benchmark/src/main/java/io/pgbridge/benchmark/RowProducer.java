package io.pgbridge.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Inserts rows with a JSON payload of about 200 bytes, in transactions of a fixed size, as fast as one session can.
 */
final class RowProducer {
    private RowProducer() {}

    /** Creates {@code table (id bigint PRIMARY KEY, payload jsonb)}, dropping an older one. */
    static void createTable(Connection c, String table) throws SQLException {
        c.createStatement().execute("DROP TABLE IF EXISTS " + table);
        c.createStatement().execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, payload jsonb NOT NULL)");
    }

    /**
     * Inserts ids 1..rows in transactions of {@code perTransaction} rows.
     *
     * @return rows per second
     */
    static double insert(Connection c, String table, int rows, int perTransaction) throws SQLException {
        long start = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " SELECT g, jsonb_build_object("
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
