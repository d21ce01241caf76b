package io.pgbridge.internal.outbox;

import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.OutboxOptions;
import io.pgbridge.SchemaException;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.replication.ReplicationSetup;
import io.pgbridge.internal.replication.SetupStep;
import io.pgbridge.internal.wal.WalSettings;
import io.pgbridge.internal.wal.WalSource;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.SourceContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streaming mode of the outbox: reads the inserts into {@code <schema>.events} through logical replication (pgoutput,
 * a publication on that table only, published through the partition root), so that events arrive in commit order,
 * including those of a long transaction that began before later ones committed. Each event's position is its
 * transaction's commit LSN, and the slot's flushed LSN advances only over transactions whose every event the sinks
 * confirmed (the WAL source's acknowledgement, through the pipeline's ledger). Producers need no NOTIFY: this mode clears the stream's wake-up
 * channel. The events stay in the table until partition maintenance drops their day.
 *
 * <p>A new slot streams what commits after it exists; the events already in the table then (for example left by
 * polling mode, or written before the first start) are recorded in {@code backlog} in the slot's own snapshot and read
 * from the table first, each forgotten once delivered ({@link OutboxSlotSetup}: crash-safe at every step). While a sink is down the slot keeps moving: after {@code outbox.replay-after-ms} without a
 * confirmation the source records a checkpoint and the commit order of the events it reads, and replays them from the
 * table once the sinks confirm again ({@link OutboxReplay}).
 */
final class StreamingOutboxSource implements EventSource {
    private static final Logger log = LoggerFactory.getLogger(StreamingOutboxSource.class);
    private static final int BACKLOG_SLICE = 500;

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private final long streamId;
    private final String slot;
    private final String publication;
    private final OutboxReplay replay;
    private final OutboxSlotSetup slotSetup;
    private final WalSource stream;
    private final PartitionMaintenance maintenance;
    private final OutboxDeadLetters deadLetters;
    private volatile ClaimedBatch backlog;
    private volatile boolean stopping;
    /** Held while the stream starts, so that stop() waits for a start already under way. */
    private final Object lifecycle = new Object();

    private volatile Thread backlogThread;

    /**
     * The WAL settings the outbox stream takes from the WAL source's: its timing. The slot, publication and output
     * plugin are the outbox's own.
     */
    static final List<Setting> WAL_SETTINGS = List.of(
            WalSettings.STATUS_INTERVAL,
            WalSettings.READ_TIMEOUT,
            WalSettings.HEARTBEAT_INTERVAL,
            WalSettings.LAG_WARNING_BYTES);

    private final WalOptions streamOptions;

    /** {@code wal}: the WAL source's options, of which the stream takes those of {@link #WAL_SETTINGS}. */
    StreamingOutboxSource(PostgresConnector postgres, OutboxTables tables, OutboxOptions options, WalOptions wal) {
        this.postgres = postgres;
        this.tables = tables;
        this.streamId = options.streamId();
        this.slot = options.slot() != null ? options.slot() : tables.defaultSlot(streamId);
        this.publication = options.publication() != null ? options.publication() : slot;
        this.replay = new OutboxReplay(postgres, tables, streamId, slot, options.replayAfter());
        this.slotSetup = new OutboxSlotSetup(postgres, tables, streamId, slot, publication);
        this.streamOptions = WalOptions.builder()
                .statusInterval(wal.statusInterval())
                .readTimeout(wal.readTimeout())
                .heartbeatInterval(wal.heartbeatInterval())
                .lagWarningBytes(wal.lagWarningBytes())
                .reconnectMaxBackoff(options.reconnectMaxBackoff())
                .build();
        this.stream = WalSource.forPublication(
                "outbox",
                postgres,
                streamOptions,
                slot,
                publication,
                Set.of(tables.schema() + ".events"),
                emitter -> new OutboxStreamDecoder(emitter, tables.schema(), streamId, replay));
        this.maintenance = new PartitionMaintenance(postgres, tables, options);
        this.deadLetters = OutboxDeadLetters.ifEnabled(postgres, tables, options);
    }

    /** The options of the outbox's WAL stream (for tests). */
    WalOptions streamOptions() {
        return streamOptions;
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
            SetupStep.reached("outbox-publication");
            slotSetup.prepare(c);
            replay.start(context);
        } catch (SQLException e) {
            throw new ConnectionException(
                    "Cannot prepare the outbox " + tables.schema() + ".events for streaming at " + postgres.describe()
                            + ": " + e.getMessage(),
                    e);
        }
        maintenance.start(context);
        if (!hasBacklog()) {
            stream.start(context);
            return;
        }
        // The backlog goes first, and handing it over waits while the pipeline is full (a sink is down): on a thread
        // of its own, which starts the stream after it, so that start() returns.
        Thread starter = context.threadFactory().newThread(() -> startAfterBacklog(context));
        starter.setName("pgbridge-outbox-backlog");
        starter.setDaemon(true);
        backlogThread = starter;
        starter.start();
    }

    private boolean hasBacklog() {
        try (Connection c = postgres.connect();
                PreparedStatement st = c.prepareStatement(tables.hasBacklog())) {
            st.setLong(1, streamId);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw new ConnectionException(
                    "Cannot read the outbox backlog of slot " + slot + " at " + postgres.describe() + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /** Backlog thread: hands the backlog over, starts the stream, then forgets the backlog as it is delivered. */
    private void startAfterBacklog(SourceContext context) {
        try {
            ClaimedBatch batch = publishBacklog(context);
            synchronized (lifecycle) {
                if (stopping) {
                    return;
                }
                stream.start(context);
            }
            if (batch != null) {
                forgetBacklogWhenDelivered(batch);
            }
        } catch (InterruptedException e) {
            // stop() interrupted a hand-over blocked on a full pipeline: the rest is read again on the next start
        } catch (RuntimeException e) {
            if (!stopping) {
                context.failed(e);
            }
        }
    }

    /**
     * Hands over the events committed before the slot existed ({@code backlog}), in id order, before the stream's
     * first event (whose positions, commit LSNs, are all higher); waits while the pipeline is full. Returns what was
     * handed over, to be forgotten as it is delivered (a restart reads only what is left); null when nothing was.
     */
    private ClaimedBatch publishBacklog(SourceContext context) throws InterruptedException {
        ClaimedBatch batch = new ClaimedBatch();
        int count = 0;
        long after = -1;
        try (Connection c = postgres.connect()) {
            // Slices in autocommit: no transaction (nor its lock on the events table) stays open while the pipeline is
            // full.
            OutboxTables.limitLockWaits(c);
            for (int slice = BACKLOG_SLICE; slice == BACKLOG_SLICE; ) {
                slice = 0;
                for (Backlogged b : readBacklogSlice(c, after)) {
                    if (stopping) {
                        return backlog;
                    }
                    if (backlog == null) {
                        backlog = batch;
                    }
                    batch.expect(b.id);
                    if (b.event == null) {
                        log.error(
                                "Outbox event {} (stream {}) is in the backlog of slot {} but no longer in {}.events"
                                        + " (deleted): it cannot be delivered",
                                b.id,
                                streamId,
                                slot,
                                tables.schema());
                        batch.done(b.id);
                    } else {
                        context.publish(b.event);
                        count++;
                    }
                    after = b.id;
                    slice++;
                }
            }
        } catch (SQLException e) {
            throw new ConnectionException(
                    "Cannot read the outbox backlog of slot " + slot + " at " + postgres.describe() + ": "
                            + e.getMessage(),
                    e);
        }
        log.info("Handed over {} outbox event(s) committed before slot {} existed", count, slot);
        return backlog;
    }

    /** A backlog entry: its id, and its event (null when the row is no longer in the table). */
    private record Backlogged(long id, Event event) {}

    /**
     * One slice of the backlog after an id; when an application holds a lock the read needs, waits and tries again
     * (logged) rather than fail the start.
     */
    private List<Backlogged> readBacklogSlice(Connection c, long after) throws SQLException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            List<Backlogged> slice = new ArrayList<>();
            try (PreparedStatement st = c.prepareStatement(tables.backlog())) {
                st.setLong(1, streamId);
                st.setLong(2, after);
                st.setInt(3, BACKLOG_SLICE);
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        slice.add(new Backlogged(
                                rs.getLong(OutboxRows.COLUMNS + 1),
                                rs.getString(2) == null ? null : OutboxRows.toEvent(rs)));
                    }
                }
                return slice;
            } catch (SQLException e) {
                if (!OutboxTables.lockNotAvailable(e)) {
                    throw e;
                }
                log.info("Reading the outbox backlog of slot {} waits for a lock ({}); retrying", slot, e.getMessage());
                Thread.sleep(Math.min(5_000, 100L * attempt));
            }
        }
    }

    /** Deletes delivered backlog rows about once a second, until all are delivered or the source closes. */
    private void forgetBacklogWhenDelivered(ClaimedBatch batch) {
        boolean all = false;
        try (Connection c = postgres.connect()) {
            OutboxTables.limitLockWaits(c);
            while (!all && !stopping) {
                all = batch.awaitDone(1_000);
                Long[] done = batch.takeDone();
                if (done.length > 0) {
                    try (PreparedStatement st = c.prepareStatement(tables.backlogDelivered())) {
                        st.setLong(1, streamId);
                        st.setArray(2, c.createArrayOf("bigint", done));
                        st.executeUpdate();
                    }
                }
            }
            if (all) {
                backlog = null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException e) {
            log.warn(
                    "Cannot forget delivered events of the outbox backlog of slot {} ({}); those not forgotten yet"
                            + " are delivered again on the next start",
                    slot,
                    e.getMessage());
        }
    }

    @Override
    public void delivered(Event event) {
        replay.delivered(event);
        ClaimedBatch batch = backlog;
        if (batch != null) {
            batch.done(Long.parseLong(event.id()));
        }
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
        replay.acknowledged(position);
        stream.acknowledge(position);
    }

    @Override
    public OptionalLong lagBytes() {
        return stream.lagBytes();
    }

    @Override
    public void stop() {
        stopping = true;
        maintenance.stop();
        Thread t = backlogThread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt(); // a hand-over blocked on a full pipeline gives up; nothing is published afterwards
        }
        synchronized (lifecycle) {
            stream.stop();
        }
    }

    @Override
    public void close() {
        stop();
        Thread t = backlogThread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stream.close();
        replay.close();
        if (deadLetters != null) {
            deadLetters.close();
        }
    }

    @Override
    public List<String> prerequisiteProblems(Connection connection) throws SQLException {
        return ReplicationSetup.problems(connection, slotSetup.spec());
    }
}
