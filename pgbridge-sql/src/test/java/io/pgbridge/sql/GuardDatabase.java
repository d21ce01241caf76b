package io.pgbridge.sql;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A pgbridge schema with an application table {@code <app>.users} to subscribe to, and two canaries that nothing the
 * guard accepts or runs may touch: the sequence {@code <app>.canary} and the table {@code <app>.canary_log}.
 */
final class GuardDatabase {
    final TestDatabase db = new TestDatabase();

    void create() throws SQLException {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
        db.execute("create schema " + db.app + "; create table " + db.app + ".users (id serial primary key,"
                + " email text not null, email_verified boolean not null default false);"
                + " create sequence " + db.app + ".canary; create table " + db.app + ".canary_log (n int);"
                + " create domain " + db.app + ".short_text as text check (length(value) < 100)");
    }

    /** The oid of the canary sequence, as the reproducer names it. */
    long canaryOid() throws SQLException {
        return queryLong("select '" + db.app + ".canary'::regclass::oid");
    }

    /** A fingerprint of the canaries: whether the sequence was ever called, and the rows of the table. */
    String canaries() throws SQLException {
        return queryLong("select case when is_called then last_value else 0 end from " + db.app + ".canary") + "/"
                + queryLong("select count(*) from " + db.app + ".canary_log");
    }

    /** Stores a subscription with this when_clause (null for none) and payload extension expression (null: none). */
    void subscribe(String key, String operation, String whenClause, String extension) throws SQLException {
        try (Connection c = db.connect();
                var st = c.prepareStatement("insert into " + db.schema + ".subscriptions (key, operation,"
                        + " schema_name, table_name, when_clause, payload_extensions) values (?, ?, ?, 'users', ?,"
                        + " case when ?::text is null then null else jsonb_build_array(jsonb_build_object("
                        + "'json_path', 'x', 'expression', ?::text)) end)")) {
            st.setString(1, key);
            st.setString(2, operation);
            st.setString(3, db.app);
            st.setString(4, whenClause);
            st.setString(5, extension);
            st.setString(6, extension);
            st.executeUpdate();
        }
    }

    long queryLong(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
