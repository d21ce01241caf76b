package io.pgbridge.internal.notify;

import io.pgbridge.internal.Closing;
import io.pgbridge.spi.PostgresConnector;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL's notification queue usage, {@code pg_notification_queue_usage()} (0 to 1 of the cluster's queue),
 * measured at most once per {@link WaitOrDrop#USAGE_MAX_AGE} over a connection of its own, opened at the first
 * measurement (when the pipeline first refuses a notification) and kept. Not over the LISTEN connection: a query there
 * makes PostgreSQL send every pending notification first, which pgjdbc would buffer in memory without a bound.
 *
 * <p>A failed measurement gives {@link Double#NaN} (counted as a full queue) for the same
 * {@link WaitOrDrop#USAGE_MAX_AGE}, closes the connection and is retried with a new one after that. Used by the
 * listener thread only; not thread-safe.
 */
final class QueueUsage implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueUsage.class);
    private static final long MAX_AGE_NANOS = WaitOrDrop.USAGE_MAX_AGE.toNanos();

    private final PostgresConnector postgres;
    private final Map<String, String> connectionProperties;
    private Connection connection;
    private double usage = Double.NaN;
    private long measuredAt;
    private boolean measured;
    private boolean failing;

    /** @param socketTimeoutSeconds bounds each measurement, as the LISTEN connection's probe */
    QueueUsage(PostgresConnector postgres, int socketTimeoutSeconds) {
        this.postgres = postgres;
        this.connectionProperties = Map.of("socketTimeout", Integer.toString(socketTimeoutSeconds));
    }

    /** The usage, measured at most {@link WaitOrDrop#USAGE_MAX_AGE} before, or NaN when unknown. */
    double current() {
        if (measured && System.nanoTime() - measuredAt < MAX_AGE_NANOS) {
            return usage;
        }
        usage = measure();
        measuredAt = System.nanoTime();
        measured = true;
        return usage;
    }

    private double measure() {
        try {
            if (connection == null) {
                connection = postgres.connect(connectionProperties);
            }
            try (Statement st = connection.createStatement();
                    ResultSet rs = st.executeQuery("SELECT pg_notification_queue_usage()")) {
                rs.next();
                double value = rs.getDouble(1);
                if (failing) {
                    log.info("Measuring PostgreSQL's notification queue usage works again ({})", value);
                    failing = false;
                }
                return value;
            }
        } catch (SQLException e) {
            if (!failing) {
                log.warn(
                        "Cannot measure PostgreSQL's notification queue usage at {} ({}); until it works again,"
                                + " notifications the pipeline cannot take at once are dropped",
                        postgres.describe(),
                        e.getMessage());
                failing = true;
            }
            close();
            return Double.NaN;
        }
    }

    @Override
    public void close() {
        Connection c = connection;
        connection = null;
        Closing.quietly(c, "the notification queue usage connection");
    }
}
