package io.pgbridge.internal.wal;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.postgresql.replication.LogSequenceNumber;

/**
 * One WAL test's own names (schema, slot, publication) on the shared PostgreSQL, and their cleanup: the slot is
 * dropped even when the test failed, since an abandoned slot keeps WAL forever.
 */
final class WalFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    final String name =
            "wal_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    final String schema = name;
    final String slot = name;
    final Connection sql;

    WalFixture() throws SQLException {
        sql = TestServices.postgresConnection();
        exec("CREATE SCHEMA " + schema);
    }

    void exec(String... statements) throws SQLException {
        try (Statement st = sql.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /** A bridge on this fixture's slot with short intervals, so that tests see acknowledgements quickly. */
    PgBridge.Builder bridge(String routes, io.pgbridge.spi.Sink sink) {
        return PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes(routes)
                .sink(sink)
                .setting("wal.slot", slot)
                .setting("wal.status-interval-ms", "200")
                .setting("wal.heartbeat-interval-ms", "500")
                .shutdownTimeout(Duration.ofSeconds(20));
    }

    /** The slot's confirmed_flush_lsn, or -1 when the slot does not exist. */
    long confirmedFlush() throws SQLException {
        try (PreparedStatement ps = sql.prepareStatement(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? LogSequenceNumber.valueOf(rs.getString(1)).asLong() : -1;
            }
        }
    }

    /** The process id of the walsender holding the slot, or 0 while none does. */
    int walsenderPid() throws SQLException {
        try (PreparedStatement ps =
                sql.prepareStatement("SELECT coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }

    long currentWalLsn() throws SQLException {
        try (Statement st = sql.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
        }
    }

    static JsonNode json(Event e) {
        try {
            return JSON.readTree(e.payload());
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void close() throws SQLException {
        try {
            dropSlot(sql, slot);
            exec("DROP PUBLICATION IF EXISTS " + slot, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } finally {
            sql.close();
        }
    }

    /** Terminates the walsender holding the slot, if any, and drops the slot. */
    static void dropSlot(Connection sql, String slot) throws SQLException {
        try (PreparedStatement ps = sql.prepareStatement(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = ? AND active")) {
            ps.setString(1, slot);
            ps.execute();
        }
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
            try (PreparedStatement ps = sql.prepareStatement(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                ps.execute();
            }
            return true;
        });
    }
}
