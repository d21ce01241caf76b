package io.pgbridge.server;

import io.pgbridge.ConnectionException;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.spi.support.Redaction;
import io.pgbridge.sql.PgBridgeSchema;
import java.sql.Connection;
import java.sql.SQLException;

/** The commands' one ordinary connection to the configured database. */
final class Database {
    private Database() {}

    /**
     * @throws io.pgbridge.ConfigurationException when {@code postgresql.uri} is missing or malformed
     * @throws ConnectionException when PostgreSQL cannot be reached or refuses the credentials or the database; the
     *     message holds PostgreSQL's reason and a hint, never the password
     */
    static Connection connect(PgBridgeConfig settings) {
        try {
            return PgBridgeSchema.dataSource(settings).getConnection();
        } catch (SQLException e) {
            throw new ConnectionException(describe(settings, e), e);
        }
    }

    static String describe(PgBridgeConfig settings, SQLException e) {
        String where = "PostgreSQL at " + Redaction.redact(settings.get("postgresql.uri"));
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String hint;
        if (state.startsWith("28")) {
            hint = "check PGBRIDGE_POSTGRESQL_USER/PASSWORD (or the URI's) and pg_hba.conf";
        } else if (state.equals("3D000")) {
            hint = "check the database name in PGBRIDGE_POSTGRESQL_URI";
        } else if (state.startsWith("08")) {
            hint = "check host and port in PGBRIDGE_POSTGRESQL_URI and that PostgreSQL runs and listens there";
        } else {
            hint = "SQLSTATE " + state;
        }
        return "Cannot connect to " + where + ": " + Redaction.redact(e.getMessage()) + " (" + hint + ")";
    }
}
