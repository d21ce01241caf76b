package io.pgbridge.internal.wal;

import io.pgbridge.SchemaException;
import io.pgbridge.internal.replication.LsnText;
import io.pgbridge.spi.PostgresConnector;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.postgresql.replication.LogSequenceNumber;

/**
 * The initial snapshot's record in the database (and each online backfill's, under the key
 * {@code <slot>/backfill/<table>}), one row per slot in table {@value #TABLE} (created in the
 * connection's current schema when missing): {@code pending} before the slot is created (so that a crash between
 * creating the slot and reading never leaves a slot whose snapshot nobody remembers), {@code reading} with the
 * consistent point and the cursor of the last confirmed chunk, {@code done} once every chunk was confirmed. A
 * connection of its own, opened on the first write.
 */
final class SnapshotStore implements InitialSnapshot.Store, AutoCloseable {
    static final String TABLE = "pgbridge_snapshot";
    private static final String CREATE = "CREATE TABLE IF NOT EXISTS " + TABLE + " (slot text PRIMARY KEY, "
            + "state text NOT NULL, consistent_point pg_lsn, chunk bigint NOT NULL DEFAULT 0, table_name text, "
            + "last_key text[], rows bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now(), "
            + "filter text)";
    /** The column added for online backfills, for a table created before them. */
    private static final String ADD_FILTER = "ALTER TABLE " + TABLE + " ADD COLUMN IF NOT EXISTS filter text";

    /**
     * The stored record: its state, the consistent point (null while pending; for a backfill the WAL position when it
     * started, the prefix of its rows' event ids; null for a backfill recorded before that was kept), the confirmed
     * progress, and a backfill's filter (null for none).
     */
    record Record(String state, Long consistentPoint, InitialSnapshot.Progress progress, String filter) {
        boolean done() {
            return state.equals("done");
        }
    }

    private final PostgresConnector postgres;
    private final String slot;
    private final List<String> tables;
    private final String filter;
    private Connection connection;

    SnapshotStore(PostgresConnector postgres, String slot, List<String> tables) {
        this(postgres, slot, tables, null);
    }

    /**
     * @param slot the record's key: the slot for the initial snapshot, {@code <slot>/backfill/<table>} for a backfill
     * @param filter a backfill's filter, kept so that a resumed backfill reads the same rows; {@code null} for none
     */
    SnapshotStore(PostgresConnector postgres, String slot, List<String> tables, String filter) {
        this.postgres = postgres;
        this.slot = slot;
        this.tables = List.copyOf(tables);
        this.filter = filter;
    }

    /**
     * The keys and filters of the unfinished records whose key starts with {@code prefix}; empty when the table does
     * not exist (it is not created for this: a bridge that never snapshots nor backfills leaves no table behind).
     */
    static Map<String, String> unfinished(Connection c, String prefix) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regclass('" + TABLE + "') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return Map.of();
            }
        }
        create(c); // adds the filter column to a table created before backfills existed
        Map<String, String> found = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT slot, filter FROM " + TABLE
                + " WHERE starts_with(slot, ?) AND state NOT IN ('done', 'cancelled')")) {
            ps.setString(1, prefix);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return found;
    }

    /** The state recorded under {@code key}, or {@code null} when there is no record (or no table). */
    static String state(Connection c, String key) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regclass('" + TABLE + "') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return null;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT state FROM " + TABLE + " WHERE slot = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The slot's record, or {@code null}; creates the table when missing. */
    Record load(Connection c) throws SQLException {
        create(c);
        try (PreparedStatement ps = c.prepareStatement("SELECT state, consistent_point::text, chunk, table_name, "
                + "last_key, rows, filter FROM " + TABLE + " WHERE slot = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                String lsn = rs.getString(2);
                String table = rs.getString(4);
                int index = table == null ? tables.size() : tables.indexOf(table);
                Array key = rs.getArray(5);
                InitialSnapshot.Progress progress = rs.getString(1).equals("pending")
                        ? InitialSnapshot.Progress.START
                        : new InitialSnapshot.Progress(
                                rs.getLong(3),
                                Math.max(index, 0),
                                index < 0 || key == null ? null : Arrays.asList((String[]) key.getArray()),
                                rs.getLong(6));
                return new Record(
                        rs.getString(1),
                        lsn == null ? null : LogSequenceNumber.valueOf(lsn).asLong(),
                        progress,
                        rs.getString(7));
            }
        }
    }

    private static void create(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(CREATE);
            st.execute(ADD_FILTER);
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) { // created meanwhile: fine
                throw new SchemaException(
                        "wal.snapshot and backfills record their progress in table " + TABLE + ", which cannot be "
                                + "created (" + e.getMessage() + "): grant CREATE on the current schema, or create "
                                + "it: " + CREATE,
                        e);
            }
        }
    }

    /** The backfill was cancelled: it is not resumed. */
    void cancelled() throws SQLException {
        if (connection == null) {
            connection = postgres.connect();
        }
        try (PreparedStatement ps = connection.prepareStatement(
                "UPDATE " + TABLE + " SET state = 'cancelled', updated_at = now() WHERE slot = ?")) {
            ps.setString(1, slot);
            ps.executeUpdate();
        }
    }

    /** The slot is about to be created with an exported snapshot. */
    void pending(Connection c) throws SQLException {
        write(c, "pending", null, InitialSnapshot.Progress.START);
    }

    /** The snapshot starts (again) at {@code consistentPoint}, from {@code progress}. */
    void started(Connection c, long consistentPoint, InitialSnapshot.Progress progress) throws SQLException {
        write(c, null, consistentPoint, progress);
    }

    @Override
    public void record(InitialSnapshot.Progress confirmed) throws SQLException {
        if (connection == null) {
            connection = postgres.connect();
        }
        try {
            write(connection, null, null, confirmed);
        } catch (SQLException e) {
            close(); // a new connection for the next attempt
            throw e;
        }
    }

    private void write(Connection c, String state, Long consistentPoint, InitialSnapshot.Progress p)
            throws SQLException {
        boolean done = p.table() >= tables.size();
        String st = state != null ? state : done ? "done" : "reading";
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE
                + " (slot, state, consistent_point, chunk, table_name, last_key, rows, updated_at, filter) "
                + "VALUES (?, ?, ?::pg_lsn, ?, ?, ?, ?, now(), ?) ON CONFLICT (slot) DO UPDATE SET state = "
                + "excluded.state, consistent_point = COALESCE(excluded.consistent_point, " + TABLE
                + ".consistent_point), chunk = excluded.chunk, table_name = excluded.table_name, "
                + "last_key = excluded.last_key, rows = excluded.rows, updated_at = now(), filter = excluded.filter")) {
            ps.setString(1, slot);
            ps.setString(2, st);
            ps.setString(3, consistentPoint == null ? null : LsnText.of(consistentPoint));
            ps.setLong(4, p.chunk());
            ps.setString(5, done ? null : tables.get(p.table()));
            ps.setArray(
                    6,
                    p.lastKey() == null
                            ? null
                            : c.createArrayOf("text", p.lastKey().toArray()));
            ps.setLong(7, p.rows());
            ps.setString(8, filter);
            ps.executeUpdate();
        }
    }

    /** Closes the store's connection, if open. */
    @Override
    public void close() throws SQLException {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }
}
