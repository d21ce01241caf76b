package io.pgbridge.internal.outbox;

import io.pgbridge.ConnectionException;
import io.pgbridge.SchemaException;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.wal.WalSource;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SourceContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streaming mode of the outbox: reads the inserts into {@code <schema>.events} through logical replication (pgoutput,
 * a publication on that table only, published through the partition root), so that events arrive in commit order,
 * including those of a long transaction that began before later ones committed. Each event's position is its
 * transaction's commit LSN, and the slot's flushed LSN advances only over transactions whose every event the sinks
 * confirmed (the WAL source's {@code FlushTracker}). Producers need no NOTIFY: this mode clears the stream's wake-up
 * channel. The events stay in the table until partition maintenance drops their day.
 *
 * <p>While a sink is down the slot does not advance, so PostgreSQL keeps the WAL since the oldest unconfirmed event.
 */
final class StreamingOutboxSource implements EventSource {
    private static final Logger log = LoggerFactory.getLogger(StreamingOutboxSource.class);

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private final long streamId;
    private final String publication;
    private final WalSource stream;
    private final PartitionMaintenance maintenance;
    private final OutboxDeadLetters deadLetters;

    StreamingOutboxSource(PostgresConnector postgres, OutboxTables tables, Settings settings) {
        this.postgres = postgres;
        this.tables = tables;
        this.streamId = settings.integer(OutboxSettings.STREAM_ID);
        String slot = settings.raw(OutboxSettings.SLOT).orElse(tables.defaultSlot(streamId));
        this.publication = settings.raw(OutboxSettings.PUBLICATION).orElse(slot);
        this.stream = WalSource.forPublication(
                "outbox",
                postgres,
                settings,
                slot,
                publication,
                Set.of(tables.schema() + ".events"),
                emitter -> new OutboxStreamDecoder(emitter, tables.schema(), streamId));
        this.maintenance = new PartitionMaintenance(postgres, tables, settings);
        this.deadLetters =
                settings.bool(OutboxSettings.DEAD_LETTER_TABLE) ? new OutboxDeadLetters(postgres, tables) : null;
    }

    @Override
    public String name() {
        return "outbox";
    }

    @Override
    public DeadLetterHandler deadLetterHandler() {
        return deadLetters;
    }

    @Override
    public void start(SourceContext context) throws InterruptedException {
        try (Connection c = postgres.connect()) {
            tables.requireInstalled(c);
            try (PreparedStatement st = c.prepareStatement(tables.registerWakeup())) {
                st.setLong(1, streamId);
                st.setString(2, null);
                st.executeUpdate();
            }
            ensurePublication(c);
        } catch (SQLException e) {
            throw new ConnectionException(
                    "Cannot prepare the outbox " + tables.schema() + ".events for streaming at " + postgres.describe()
                            + ": " + e.getMessage(),
                    e);
        }
        maintenance.start(context.threadFactory());
        stream.start(context);
    }

    /** A publication on the events table only, through the partition root so that inserts name the events table. */
    private void ensurePublication(Connection c) throws SQLException {
        Boolean viaRoot = null;
        try (PreparedStatement st = c.prepareStatement("select pubviaroot from pg_publication where pubname = ?")) {
            st.setString(1, publication);
            try (ResultSet rs = st.executeQuery()) {
                if (rs.next()) {
                    viaRoot = rs.getBoolean(1);
                }
            }
        }
        if (Boolean.FALSE.equals(viaRoot)) {
            throw new SchemaException("Publication " + publication + " exists without publish_via_partition_root:"
                    + " run ALTER PUBLICATION " + Identifiers.quote(publication)
                    + " SET (publish_via_partition_root = true), or name another one in "
                    + OutboxSettings.PUBLICATION.envName());
        }
        if (viaRoot == null) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE PUBLICATION " + Identifiers.quote(publication) + " FOR TABLE "
                        + Identifiers.quote(tables.schema()) + ".events WITH (publish_via_partition_root = true)");
            } catch (SQLException e) {
                if (!"42710".equals(e.getSQLState())) { // created meanwhile by another instance: fine
                    throw e;
                }
            }
            log.info("Created publication {} on {}.events", publication, tables.schema());
        }
    }

    @Override
    public void acknowledge(long position) {
        stream.acknowledge(position);
    }

    @Override
    public OptionalLong lagBytes() {
        return stream.lagBytes();
    }

    @Override
    public void stop() {
        maintenance.stop();
        stream.stop();
    }

    @Override
    public void close() {
        stop();
        stream.close();
        if (deadLetters != null) {
            deadLetters.close();
        }
    }
}
