package io.pgbridge.internal.outbox;

import io.pgbridge.ConnectionException;
import io.pgbridge.internal.replication.LsnText;
import io.pgbridge.internal.replication.ReplicationSetup;
import io.pgbridge.internal.replication.SetupStep;
import io.pgbridge.spi.PostgresConnector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import org.postgresql.PGConnection;
import org.postgresql.replication.ReplicationSlotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the replication slot of a streaming outbox stream so that a crash at any point leaves a state the next start
 * recognises and completes, and so that every event is read exactly once, from the table or from the stream.
 *
 * <p>Steps (each a test-only {@link SetupStep} point): the publication exists ({@code outbox-publication}); the slot is
 * created on a replication connection, which exports the snapshot of the slot's consistent point
 * ({@code outbox-slot}); in one transaction that imports that snapshot, the events it sees go to {@code backlog} and
 * {@code checkpoints} records the slot ({@code outbox-checkpoint}). The events the snapshot sees are exactly those
 * committed before the stream's first transaction, so the backlog and the stream never share an event. The slot is
 * complete once {@code checkpoints} names it: a slot that exists without that record was left by a crash between
 * the last two steps (nothing was streamed from it, streaming starts after the record), and is dropped and created
 * again; a missing slot is created. Starts of one stream are serialised by an advisory lock.
 */
final class OutboxSlotSetup {
    private static final Logger log = LoggerFactory.getLogger(OutboxSlotSetup.class);
    private static final long SLOT_BUSY_WAIT_MILLIS = 30_000;

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private final long streamId;
    private final String slot;
    private final String publication;

    OutboxSlotSetup(PostgresConnector postgres, OutboxTables tables, long streamId, String slot, String publication) {
        this.postgres = postgres;
        this.tables = tables;
        this.streamId = streamId;
        this.slot = slot;
        this.publication = publication;
    }

    /** What the stream needs: its slot, pgoutput, and the events table in its publication. */
    ReplicationSetup.Spec spec() {
        return new ReplicationSetup.Spec(
                slot, "pgoutput", false, publication, Set.of(tables.schema() + ".events"), false, false);
    }

    /** Completes the setup on {@code c} (autocommit; the publication exists), holding the stream's setup lock. */
    void prepare(Connection c) throws SQLException, InterruptedException {
        try (PreparedStatement st = c.prepareStatement("select pg_advisory_lock(hashtext(?), hashtext(?))")) {
            st.setString(1, tables.schema() + ".events slot setup");
            st.setString(2, Long.toString(streamId));
            st.execute();
        }
        boolean exists = ReplicationSetup.prepare(c, spec());
        Long legacyBacklog = null;
        boolean recorded = false;
        try (PreparedStatement st = c.prepareStatement(tables.slotRecord())) {
            st.setLong(1, streamId);
            st.setString(2, slot);
            try (ResultSet rs = st.executeQuery()) {
                if (rs.next()) {
                    recorded = true;
                    long id = rs.getLong(1);
                    legacyBacklog = rs.wasNull() ? null : id;
                }
            }
        }
        if (exists && recorded) {
            if (legacyBacklog != null) {
                convertLegacyBacklog(c, legacyBacklog);
            }
            return;
        }
        if (exists) {
            log.warn(
                    "Replication slot {} exists but {}.checkpoints does not record it: a start was interrupted between"
                            + " creating it and recording its backlog. Nothing was streamed from it; creating it again",
                    slot,
                    tables.schema());
            drop(c);
        }
        create(c);
    }

    private void create(Connection c) throws SQLException {
        try (Connection replication = postgres.connectForReplication()) {
            ReplicationSlotInfo info = replication
                    .unwrap(PGConnection.class)
                    .getReplicationAPI()
                    .createReplicationSlot()
                    .logical()
                    .withSlotName(slot)
                    .withOutputPlugin("pgoutput")
                    .make(); // exports the snapshot of the consistent point while this connection stays idle
            SetupStep.reached("outbox-slot");
            c.setAutoCommit(false);
            int backlog;
            try (Statement st = c.createStatement()) {
                st.execute("set transaction isolation level repeatable read");
                st.execute("set transaction snapshot '" + info.getSnapshotName().replace("'", "''") + "'");
                try (PreparedStatement clear = c.prepareStatement(tables.clearBacklog());
                        PreparedStatement record = c.prepareStatement(tables.recordBacklog());
                        PreparedStatement checkpoint = c.prepareStatement(tables.recordNewSlot())) {
                    clear.setLong(1, streamId);
                    clear.executeUpdate();
                    record.setLong(1, streamId);
                    backlog = record.executeUpdate();
                    checkpoint.setLong(1, streamId);
                    checkpoint.setString(2, slot);
                    checkpoint.setString(3, LsnText.of(info.getConsistentPoint().asLong()));
                    checkpoint.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            log.info(
                    "Created logical replication slot {} for the outbox {}.events at {}; {} event(s) committed before"
                            + " it are read from the table",
                    slot,
                    tables.schema(),
                    LsnText.of(info.getConsistentPoint().asLong()),
                    backlog);
        }
        SetupStep.reached("outbox-checkpoint");
    }

    /** Drops a slot left by an interrupted start, waiting while the walsender of a killed bridge still holds it. */
    private void drop(Connection c) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + SLOT_BUSY_WAIT_MILLIS * 1_000_000L;
        while (true) {
            try (PreparedStatement st = c.prepareStatement("select pg_drop_replication_slot(?)")) {
                st.setString(1, slot);
                st.execute();
                return;
            } catch (SQLException e) {
                if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw new ConnectionException(
                            "Cannot drop replication slot " + slot + ", left by an interrupted start: "
                                    + e.getMessage(),
                            e);
                }
                Thread.sleep(200); // the walsender of the previous bridge is going away
            }
        }
    }

    /** A backlog recorded by an older version as "every event up to this id": rows of {@code backlog} now. */
    private void convertLegacyBacklog(Connection c, long upTo) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement insert = c.prepareStatement(tables.recordLegacyBacklog());
                PreparedStatement clear = c.prepareStatement(tables.clearLegacyBacklog())) {
            insert.setLong(1, streamId);
            insert.setLong(2, upTo);
            insert.executeUpdate();
            clear.setLong(1, streamId);
            clear.executeUpdate();
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
