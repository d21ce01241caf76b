package io.pgbridge.sql;

import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;

/**
 * A sink for crash tests: inserts one row per delivered event into a ledger table and confirms only after that
 * insert committed, so that everything a killed bridge confirmed is in the ledger (with duplicates when it is
 * delivered again).
 */
final class TableLedgerSink implements Sink {
    private final String ledger;
    private Connection connection;

    /** @param ledger a table {@code (event_id bigint, payload text)} */
    TableLedgerSink(String ledger) {
        this.ledger = ledger;
    }

    @Override
    public String name() {
        return "ledger";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of();
    }

    @Override
    public synchronized void start() {
        try {
            connection = TestServices.postgresConnection();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public synchronized PublishResult publish(Target target, List<Event> events) {
        try (PreparedStatement st =
                connection.prepareStatement("insert into " + ledger + " (event_id, payload) values (?, ?)")) {
            for (Event e : events) {
                st.setLong(1, Long.parseLong(e.id()));
                st.setString(2, e.payloadAsString());
                st.addBatch();
            }
            st.executeBatch();
        } catch (SQLException e) {
            return PublishResult.failed(0, "cannot write the ledger", e);
        }
        return PublishResult.confirmed(events.size());
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
