package io.pgbridge.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * Opens dedicated (never pooled) pgjdbc connections to the configured database, with pgbridge's connection
 * defaults: TCP keepalive on, server error details (which can hold row values) kept out of exception messages, and
 * the configured application name (default {@code pgbridge}). Thread-safe.
 *
 * <p>Why no pool: every connection pgbridge holds is dedicated to one job for a long time and carries session state
 * or settings of its own: a LISTEN session (NOTIFY, outbox polling), a replication protocol connection (WAL, outbox
 * streaming), a per-connection {@code socketTimeout} (outbox polling, derived from the lease; outbox replay, slot
 * heartbeats and backfill requests, 30 s), and each source reconnects with its own backoff when its connection dies.
 * What is left, partition maintenance (once an hour) and the dead-letter writer (one connection kept open), would not
 * gain from a pool.
 */
public interface PostgresConnector {

    /** A plain connection in auto-commit mode. The caller closes it. */
    Connection connect() throws SQLException;

    /**
     * A plain connection with extra pgjdbc connection properties on top of the defaults, such as
     * {@code socketTimeout} (seconds). The caller closes it.
     */
    Connection connect(Map<String, String> properties) throws SQLException;

    /**
     * A replication connection ({@code replication=database}, simple query mode), for pgjdbc's replication API.
     * The caller closes it.
     */
    Connection connectForReplication() throws SQLException;

    /** The database URL with its password redacted, for logs and errors. */
    String describe();
}
