package io.pgbridge.internal.outbox;

import io.pgbridge.Event;
import io.pgbridge.OutboxOptions;
import io.pgbridge.Target;
import io.pgbridge.internal.Closing;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.PostgresConnector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each event a sink refused for good to {@code <schema>.dead_letters} with the reason, then lets the lane move
 * on. When the insert fails the exception reaches the pipeline, which retries the event as if the sink had failed: a
 * dead letter is never dropped. Thread-safe (one connection, used under a lock: dead letters are rare).
 */
final class OutboxDeadLetters implements DeadLetterHandler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxDeadLetters.class);

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private Connection connection;

    /** The handler when {@code outbox.dead-letter-table} is on, else {@code null} (the bridge's own handler). */
    static OutboxDeadLetters ifEnabled(PostgresConnector postgres, OutboxTables tables, OutboxOptions options) {
        return options.deadLetterTable() ? new OutboxDeadLetters(postgres, tables) : null;
    }

    private OutboxDeadLetters(PostgresConnector postgres, OutboxTables tables) {
        this.postgres = postgres;
        this.tables = tables;
    }

    @Override
    public synchronized void deadLetter(Event event, Target target, String reason) throws SQLException {
        if (connection == null) {
            // A lock wait past the lock timeout fails the insert; the event is then dead-lettered again.
            connection = OutboxTables.limitingLockWaits(postgres.connect());
        }
        String[] keys = event.headers().keySet().toArray(new String[0]);
        String[] values = event.headers().values().toArray(new String[0]);
        try (PreparedStatement st = connection.prepareStatement(tables.insertDeadLetter())) {
            st.setString(1, event.source());
            st.setString(2, event.id());
            st.setString(3, event.channel());
            st.setString(4, event.routingKey());
            st.setArray(5, connection.createArrayOf("text", keys));
            st.setArray(6, connection.createArrayOf("text", values));
            st.setString(7, event.payloadAsString());
            st.setString(8, event.contentType());
            st.setString(9, target.toString());
            st.setString(10, reason == null ? "" : reason);
            st.executeUpdate();
        } catch (SQLException e) {
            close();
            throw e;
        }
        log.warn(
                "Dead letter: event {} on channel {} to {} refused for good ({}); written to {}.dead_letters",
                event.id(),
                event.channel(),
                target,
                reason,
                tables.schema());
    }

    @Override
    public synchronized void close() {
        if (connection == null) {
            return;
        }
        Closing.quietly(connection, "the dead-letter connection");
        connection = null;
    }
}
