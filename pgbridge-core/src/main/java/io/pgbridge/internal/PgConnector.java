package io.pgbridge.internal;

import io.pgbridge.internal.config.PostgresUri;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.support.Redaction;
import io.pgbridge.spi.support.Secret;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;

/** Opens dedicated pgjdbc connections with pgbridge's defaults. */
public final class PgConnector implements PostgresConnector {
    /**
     * The properties of a connection that runs only short statements (heartbeats and slot lag, backfill requests, the
     * outbox replay's records): every read waits at most 30 s, so a network path that stopped carrying bytes (a
     * half-open socket, no FIN or RST) fails the statement, and the connection is opened again, instead of blocking
     * its thread for good.
     */
    public static final Map<String, String> SHORT_STATEMENTS = Map.of("socketTimeout", "30");

    private final String jdbcUrl;
    private final String user;
    private final Secret password;
    private final String applicationName;

    public PgConnector(PostgresUri uri, String user, Secret password, String applicationName) {
        this.jdbcUrl = uri.jdbcUrl();
        this.user = user != null ? user : uri.user();
        this.password = password != null ? password : uri.password();
        this.applicationName = applicationName;
    }

    @Override
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, baseProperties());
    }

    @Override
    public Connection connect(Map<String, String> properties) throws SQLException {
        Properties props = baseProperties();
        props.putAll(properties);
        return DriverManager.getConnection(jdbcUrl, props);
    }

    @Override
    public Connection connectForReplication() throws SQLException {
        Properties props = baseProperties();
        props.setProperty("replication", "database");
        props.setProperty("preferQueryMode", "simple");
        props.setProperty("assumeMinServerVersion", "9.4");
        return DriverManager.getConnection(jdbcUrl, props);
    }

    private Properties baseProperties() {
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password.reveal());
        }
        props.setProperty("ApplicationName", applicationName);
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("connectTimeout", "10");
        // DETAIL lines of server errors can carry row values; keep them out of exception messages and logs.
        props.setProperty("logServerErrorDetail", "false");
        return props;
    }

    @Override
    public String describe() {
        return Redaction.redact(jdbcUrl) + (user == null ? "" : " as " + user);
    }

    @Override
    public String toString() {
        return describe();
    }
}
