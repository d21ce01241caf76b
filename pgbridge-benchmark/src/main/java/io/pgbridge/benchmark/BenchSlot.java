package io.pgbridge.benchmark;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A pgoutput publication for one table and a logical replication slot, both named {@code name}: created afresh (what
 * an aborted run left is dropped first) and dropped on close, since an abandoned slot keeps WAL forever.
 */
final class BenchSlot implements AutoCloseable {
    private final Connection c;
    private final String name;

    BenchSlot(Connection c, String name, String table) throws SQLException {
        this.c = c;
        this.name = name;
        drop();
        try (Statement st = c.createStatement()) {
            st.execute("CREATE PUBLICATION " + name + " FOR TABLE " + table);
            st.execute("SELECT pg_create_logical_replication_slot('" + name + "', 'pgoutput')");
        }
    }

    private void drop() throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + name
                    + "' AND NOT active");
            st.execute("DROP PUBLICATION IF EXISTS " + name);
        }
    }

    @Override
    public void close() throws SQLException {
        drop();
    }
}
