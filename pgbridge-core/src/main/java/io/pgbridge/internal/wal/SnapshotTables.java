package io.pgbridge.internal.wal;

import com.fasterxml.jackson.core.io.SerializedString;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.replication.LsnText;
import io.pgbridge.internal.replication.Relation;
import io.pgbridge.internal.replication.TupleData;
import io.pgbridge.spi.PostgresConnector;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routed tables as the initial snapshot reads them: one read-only {@code REPEATABLE READ} transaction on a
 * connection of its own, in the slot's exported snapshot when there is one ({@code SET TRANSACTION SNAPSHOT}), and a
 * keyset query per chunk ({@code WHERE (pk) > (last) ORDER BY pk LIMIT n}): memory holds one chunk, whatever the
 * table's size. Every column is read as its type's text output ({@code col::text}), exactly what pgoutput sends in
 * text mode, so a row read here and the same row streamed are written alike ({@link ChangeEventJson#read}). Columns
 * pgoutput leaves out (generated ones) are left out here too. One caller thread; the next chunk is fetched ahead on a
 * thread of its own.
 */
final class SnapshotTables implements InitialSnapshot.Tables, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotTables.class);
    private final Connection connection;
    private final List<Table> tables = new ArrayList<>();
    private final ChangeEventJson json = new ChangeEventJson();
    private SerializedString lsn;
    private final ExecutorService prefetcher; // null for a live read (no prefetch)
    // the chunk being fetched ahead (null when none) and the request it answers
    private Future<List<byte[][]>> next;
    private int nextTable;
    private List<String> nextAfter;
    private int nextLimit;

    /**
     * One table: its columns as pgoutput describes them, its primary key columns, its two chunk queries, and the query
     * that counts its rows.
     */
    private record Table(
            Relation relation, int[] keyColumns, PreparedStatement first, PreparedStatement next, String count) {}

    private SnapshotTables(Connection connection, String lsn, ThreadFactory threads) {
        this.connection = connection;
        this.lsn = new SerializedString(lsn);
        this.prefetcher = threads == null ? null : Executors.newSingleThreadExecutor(threads);
    }

    /**
     * Opens one table for an online backfill: each chunk is one query in a transaction of its own (autocommit,
     * {@code READ COMMITTED}), so that it sees every change committed before it; no chunk is fetched ahead (a chunk
     * must be read between its watermarks). The {@code lsn} of the events is set per chunk ({@link #lsn(long)}).
     *
     * @param filter a SQL condition on the table's columns ({@code r.} qualifies them), or {@code null} for all rows
     * @throws SQLException when the table cannot be read, or the filter is not valid SQL for it
     */
    static SnapshotTables live(PostgresConnector postgres, String tableName, String filter) throws SQLException {
        Connection c = postgres.connect();
        try {
            SnapshotTables tables = new SnapshotTables(c, "0/0", null);
            Table t = table(c, tableName, filter);
            tables.tables.add(t);
            t.first().setInt(1, 0);
            t.first().executeQuery().close(); // checks the filter now
            return tables;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The rows of every table ({@code count(*)}, with a live read's filter), as the reading transaction sees them: in
     * the slot's exported snapshot exactly the rows the snapshot reads; a full scan of each table. Waits for a chunk
     * being fetched ahead (the connection serves one query at a time).
     */
    long count() throws SQLException {
        settlePrefetch();
        long rows = 0;
        try (Statement st = connection.createStatement()) {
            for (Table t : tables) {
                try (ResultSet rs = st.executeQuery(t.count())) {
                    rs.next();
                    rows += rs.getLong(1);
                }
            }
        }
        return rows;
    }

    /** The primary key's column names of table {@code table}, in key order. */
    List<String> keyNames(int table) {
        Table t = tables.get(table);
        List<String> names = new ArrayList<>(t.keyColumns().length);
        for (int k : t.keyColumns()) {
            names.add(t.relation().columns().get(k).name());
        }
        return names;
    }

    /** The replica identity of table {@code table} ({@code pg_class.relreplident}: d, f, i or n). */
    char replicaIdentity(int table) {
        return tables.get(table).relation().replicaIdentity();
    }

    /** The {@code lsn} written into the events of the next chunks. */
    void lsn(long lsn) {
        this.lsn = new SerializedString(LsnText.of(lsn));
    }

    /**
     * Opens the reading transaction on a new connection.
     *
     * @param snapshotName the slot's exported snapshot, or {@code null} to read the tables as they are now
     * @param consistentPoint the slot's consistent point: the {@code lsn} of every event; {@link Long#MAX_VALUE}
     *     without a slot, and then the {@code lsn} is the server's WAL position when the transaction began
     * @param threads makes the thread that fetches the next chunk ahead
     */
    static SnapshotTables open(
            PostgresConnector postgres,
            List<String> tableNames,
            String snapshotName,
            long consistentPoint,
            ThreadFactory threads)
            throws SQLException {
        Connection c = postgres.connect();
        try {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                if (snapshotName != null) {
                    st.execute("SET TRANSACTION SNAPSHOT " + literal(snapshotName));
                }
            }
            String lsn;
            if (consistentPoint != Long.MAX_VALUE) {
                lsn = LsnText.of(consistentPoint);
            } else {
                // no slot (initial-only): the WAL position as the transaction's snapshot is taken
                try (Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
                    rs.next();
                    lsn = rs.getString(1);
                }
            }
            SnapshotTables tables = new SnapshotTables(c, lsn, threads);
            for (String name : tableNames) {
                tables.tables.add(table(c, name, null));
            }
            return tables;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The tables that cannot be read in key order, each with its fix.
     *
     * @return one line per table without a primary key; empty when all have one
     */
    static List<String> problems(Connection c, Collection<String> tableNames) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (String name : tableNames) {
            int dot = name.indexOf('.');
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON "
                    + "c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND "
                    + "c.relname = ? AND i.indisprimary)")) {
                ps.setString(1, name.substring(0, dot));
                ps.setString(2, name.substring(dot + 1));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        problems.add("table " + name + " has no primary key: wal.snapshot reads each table in "
                                + "primary-key order, chunk by chunk, to keep memory bounded and to resume after a "
                                + "crash. Add one (ALTER TABLE " + quoted(name) + " ADD PRIMARY KEY (...)), or set "
                                + "wal.snapshot=never");
                    }
                }
            }
        }
        return problems;
    }

    private static Table table(Connection c, String name, String filter) throws SQLException {
        int dot = name.indexOf('.');
        String schema = name.substring(0, dot);
        String table = name.substring(dot + 1);
        List<Relation.Column> columns = new ArrayList<>();
        List<String> types = new ArrayList<>();
        List<Integer> keyOrder = new ArrayList<>();
        char identity = 'd';
        int oid = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, a.atttypid, a.atttypmod, "
                + "format_type(a.atttypid, a.atttypmod), "
                + "(SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
                + "WHERE i.indrelid = cl.oid AND i.indisprimary AND k.attnum = a.attnum), "
                + "COALESCE((SELECT a.attnum = ANY (i.indkey::int2[]) FROM pg_index i WHERE i.indrelid = cl.oid "
                + "AND CASE cl.relreplident WHEN 'd' THEN i.indisprimary WHEN 'i' THEN i.indisreplident "
                + "ELSE false END LIMIT 1), false), cl.relreplident, cl.oid "
                + "FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace "
                + "JOIN pg_attribute a ON a.attrelid = cl.oid "
                + "WHERE n.nspname = ? AND cl.relname = ? AND a.attnum > 0 AND NOT a.attisdropped "
                + "AND a.attgenerated = '' ORDER BY a.attnum")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(new Relation.Column(rs.getString(1), rs.getInt(2), rs.getInt(3), rs.getBoolean(6)));
                    types.add(rs.getString(4));
                    keyOrder.add(rs.getObject(5) == null ? 0 : rs.getInt(5));
                    identity = rs.getString(7).charAt(0);
                    oid = rs.getInt(8);
                }
            }
        }
        if (columns.isEmpty()) {
            throw new SQLException("table " + name + " does not exist or has no columns");
        }
        int keys = (int) keyOrder.stream().filter(k -> k > 0).count();
        if (keys == 0) {
            throw new io.pgbridge.SchemaException(problems(c, List.of(name)).get(0));
        }
        int[] keyColumns = new int[keys];
        for (int i = 0; i < keyOrder.size(); i++) {
            if (keyOrder.get(i) > 0) {
                keyColumns[keyOrder.get(i) - 1] = i;
            }
        }
        StringBuilder select = new StringBuilder("SELECT ");
        for (int i = 0; i < columns.size(); i++) {
            select.append(i == 0 ? "" : ", ")
                    .append(Identifiers.quote(columns.get(i).name()))
                    .append("::text");
        }
        // ORDER BY names the table's columns through its alias: an unqualified name would be the output column of the
        // same name, the key's text, and sort 10 before 9
        select.append(" FROM ").append(quoted(name)).append(" AS r");
        StringBuilder order = new StringBuilder(" ORDER BY ");
        StringBuilder left = new StringBuilder("(");
        StringBuilder right = new StringBuilder("(");
        for (int k = 0; k < keys; k++) {
            String column = "r." + Identifiers.quote(columns.get(keyColumns[k]).name());
            String sep = k == 0 ? "" : ", ";
            order.append(sep).append(column);
            left.append(sep).append(column);
            right.append(sep)
                    .append("CAST(? AS ")
                    .append(types.get(keyColumns[k]))
                    .append(')');
        }
        String limit = " LIMIT ?";
        String where = filter == null ? " WHERE " : " WHERE (" + filter + ") AND ";
        Relation relation = new Relation(oid, schema, table, identity, columns);
        return new Table(
                relation,
                keyColumns,
                c.prepareStatement(select + (filter == null ? "" : " WHERE (" + filter + ")") + order + limit),
                c.prepareStatement(select + where + left + ") > " + right + ")" + order + limit),
                "SELECT count(*) FROM " + quoted(name) + " AS r" + (filter == null ? "" : " WHERE (" + filter + ")"));
    }

    /**
     * {@inheritDoc}
     *
     * <p>While the caller writes and hands over a chunk, the next one (the rest of this table, or the start of the
     * next) is already being fetched on the prefetch thread, so that the server's query and the JSON writing overlap;
     * a request other than the one foreseen waits for the prefetch and queries anew. At most two chunks are held.
     */
    @Override
    public List<InitialSnapshot.Row> chunk(int table, List<String> after, int limit) throws SQLException {
        List<byte[][]> raw;
        if (next != null && nextTable == table && Objects.equals(nextAfter, after) && nextLimit == limit) {
            raw = await(next);
            next = null;
        } else {
            settlePrefetch();
            raw = fetch(table, after, limit);
        }
        Table t = tables.get(table);
        if (prefetcher != null && raw.size() == limit) {
            prefetch(table, key(t, raw.get(raw.size() - 1)), limit);
        } else if (prefetcher != null && table + 1 < tables.size()) {
            prefetch(table + 1, null, limit);
        }
        List<InitialSnapshot.Row> rows = new ArrayList<>(raw.size());
        for (byte[][] values : raw) {
            rows.add(new InitialSnapshot.Row(key(t, values), json.read(t.relation(), lsn, TupleData.text(values))));
        }
        return rows;
    }

    private static List<String> key(Table t, byte[][] values) {
        List<String> key = new ArrayList<>(t.keyColumns().length);
        for (int k : t.keyColumns()) {
            key.add(new String(values[k], StandardCharsets.UTF_8));
        }
        return key;
    }

    private void prefetch(int table, List<String> after, int limit) {
        nextTable = table;
        nextAfter = after;
        nextLimit = limit;
        next = prefetcher.submit(() -> fetch(table, after, limit));
    }

    /** Waits for a prefetch nobody wants any more: the connection serves one query at a time. */
    private void settlePrefetch() {
        if (prefetcher != null && next != null) {
            try {
                next.get();
            } catch (ExecutionException e) {
                log.debug("A prefetched chunk failed; it is read again if needed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            next = null;
        }
    }

    private static List<byte[][]> await(Future<List<byte[][]>> chunk) throws SQLException {
        try {
            return chunk.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException s) {
                throw s;
            }
            throw new IllegalStateException("reading a snapshot chunk failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while reading a snapshot chunk", e);
        }
    }

    /** Runs a chunk's query: each row's values as text bytes (UTF-8), {@code null} for SQL NULL. */
    private List<byte[][]> fetch(int table, List<String> after, int limit) throws SQLException {
        Table t = tables.get(table);
        PreparedStatement ps = after == null ? t.first() : t.next();
        int p = 1;
        if (after != null) {
            for (String value : after) {
                ps.setString(p++, value);
            }
        }
        ps.setInt(p, limit);
        int width = t.relation().columns().size();
        List<byte[][]> rows = new ArrayList<>(Math.min(limit, 4096));
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                byte[][] values = new byte[width][];
                for (int i = 0; i < width; i++) {
                    values[i] = rs.getBytes(i + 1); // a text value's bytes
                }
                rows.add(values);
            }
        }
        return rows;
    }

    private static String quoted(String name) {
        int dot = name.indexOf('.');
        return Identifiers.quote(name.substring(0, dot)) + '.' + Identifiers.quote(name.substring(dot + 1));
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    /** Ends the reading transaction and closes the connection; failures are logged by the caller's pool. */
    @Override
    public void close() throws SQLException {
        settlePrefetch();
        if (prefetcher != null) {
            prefetcher.shutdown();
        }
        try {
            if (!connection.getAutoCommit()) {
                connection.rollback();
            }
        } finally {
            connection.close();
        }
    }
}
