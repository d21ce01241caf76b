package io.pgbridge.sql;

import static org.awaitility.Awaitility.await;

import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;

/** A pgbridge schema of its own for one test class, on the test PostgreSQL; dropped by {@link #dropAll}. */
final class TestDatabase {
    final String schema = "pgb_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    /** A schema for the application tables the test subscribes to. */
    final String app = schema + "_app";

    static DataSource dataSource() {
        return TestServices.postgresDataSource();
    }

    Connection connect() throws SQLException {
        return TestServices.postgresConnection();
    }

    void execute(String sql) throws SQLException {
        try (Connection c = connect();
                Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The streaming outbox's replication slot, also its publication's name. */
    String slot() {
        return schema + "_outbox_1";
    }

    /** Waits (up to 30 s) until no bridge streams from {@link #slot()}, then drops the slot and the publication. */
    void dropStream() throws SQLException {
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        count("select count(*) from pg_replication_slots where slot_name = '" + slot() + "' and active")
                                == 0);
        execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '" + slot()
                + "'; drop publication if exists " + slot());
    }

    long count(String sql) throws SQLException {
        try (Connection c = connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    void dropAll() throws SQLException {
        execute("drop schema if exists " + app + " cascade; drop schema if exists " + schema + " cascade");
    }
}
