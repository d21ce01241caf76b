package io.pgbridge.sql;

import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** A pgbridge schema of its own for one test class, on the test PostgreSQL; dropped by {@link #dropAll}. */
final class TestDatabase {
    final String schema = "pgb_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    /** A schema for the application tables the test subscribes to. */
    final String app = schema + "_app";

    static DataSource dataSource() {
        URI uri = URI.create(TestServices.postgresUrl());
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {uri.getHost()});
        ds.setPortNumbers(new int[] {uri.getPort() > 0 ? uri.getPort() : 5432});
        ds.setDatabaseName(uri.getPath().substring(1));
        String userInfo = uri.getUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            ds.setUser(colon < 0 ? userInfo : userInfo.substring(0, colon));
            if (colon >= 0) {
                ds.setPassword(userInfo.substring(colon + 1));
            }
        }
        return ds;
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

    void dropAll() throws SQLException {
        execute("drop schema if exists " + app + " cascade; drop schema if exists " + schema + " cascade");
    }
}
