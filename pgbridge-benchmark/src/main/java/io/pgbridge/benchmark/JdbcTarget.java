package io.pgbridge.benchmark;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The JDBC URL and user of a benchmark's {@code postgresql://user@host:port/database} argument (port 5432 and user
 * {@code postgres} when absent; a password in the URI is ignored: the benchmarks run against a trusting server).
 */
record JdbcTarget(String url, String user) {
    static JdbcTarget of(String postgresUri) {
        URI uri = URI.create(postgresUri);
        String user = uri.getUserInfo() == null ? "postgres" : uri.getUserInfo().split(":")[0];
        String url =
                "jdbc:postgresql://" + uri.getHost() + ":" + (uri.getPort() < 0 ? 5432 : uri.getPort()) + uri.getPath();
        return new JdbcTarget(url, user);
    }

    /** A new connection as {@link #user}, without a password. */
    Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, null);
    }
}
