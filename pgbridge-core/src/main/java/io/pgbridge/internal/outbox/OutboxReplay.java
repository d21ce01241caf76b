package io.pgbridge.internal.outbox;

import io.pgbridge.Event;
import io.pgbridge.internal.Closing;
import io.pgbridge.internal.PgConnector;
import io.pgbridge.internal.replication.LsnText;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.SourceContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoint and replay for the streaming outbox, so that a sink outage does not hold WAL.
 *
 * <p>Every event handed to the pipeline is tracked by its place in commit order (its transaction's commit LSN and its
 * ordinal there) until it is done. When the oldest one stays unconfirmed for {@code outbox.replay-after-ms}, the
 * source <em>fails over</em>: it writes the checkpoint (the last confirmed position) to {@code checkpoints}, records
 * the unconfirmed events in {@code replay}, and from then on records every decoded event there instead of handing it
 * over (one insert per transaction, or per {@value #BATCH} events). The slot may then move past everything recorded:
 * the events are in the table, and their commit order is in {@code replay}. An event of a long transaction that began
 * before the checkpoint is recorded when its commit is decoded, at its commit LSN, so it is not skipped.
 *
 * <p>While failed over, the recorded events are handed over from the table in commit order, {@value #BATCH} at a
 * time and only as the pipeline has room (they queue behind the unconfirmed ones, and reach the sink once it is back);
 * the rows of confirmed events are deleted. Once every recorded event is confirmed, and no recorded transaction can be
 * incomplete ({@link RecordedTransactions}: a failed write of recorded events leaves one so until the server sends it
 * again), the source streams again, at a transaction boundary, so nothing is skipped or reordered. Rows left by a crash are replayed on the next start,
 * before the stream: duplicates are then only the events in flight at the crash.
 *
 * <p>Reader thread only, except {@link #delivered} and {@link #acknowledged} (pipeline threads).
 */
final class OutboxReplay {
    private static final Logger log = LoggerFactory.getLogger(OutboxReplay.class);
    static final int BATCH = 500;
    private static final long DELETE_INTERVAL_NANOS = Duration.ofSeconds(1).toNanos();
    private static final String NO_LSN = "0/0";
    private static final Duration MISSING_PAUSE = Duration.ofMillis(50);

    /**
     * An event handed to the pipeline: its place in commit order, its transaction's 32-bit id, its id, and when it was
     * handed over.
     */
    private record Handed(long commitLsn, int ordinal, long xid, long id, long handedAt) {}

    /** What to do with a recorded event missing from the table: the answer of {@code <schema>.event_fate}. */
    enum Fate {
        /** Its transaction is in progress, or committed but not visible to this snapshot yet: read again later. */
        WAIT,
        /** Its transaction rolled back: there is no event. */
        ABORTED,
        /** Committed and visible, yet not in the table: deleted, it cannot be delivered. */
        GONE,
        /**
         * Recorded without a transaction id (by a bridge before schema version 5), and every transaction that can have
         * recorded it is finished for this snapshot (schema version 6, {@code legacy_replay_horizon}): a committed
         * event would be visible, so it was deleted or its transaction rolled back. Before that, the fate is WAIT.
         */
        UNKNOWN;

        static Fate of(String fate) {
            return valueOf(fate.toUpperCase(java.util.Locale.ROOT));
        }
    }

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private final long streamId;
    private final String slot;
    private final long replayAfterNanos;

    /** Handed over and not yet trimmed, in commit order; reader thread. */
    private final ArrayDeque<Handed> handed = new ArrayDeque<>();
    /** The ids of {@link #handed}, true once done; written by pipeline threads too. */
    private final ConcurrentHashMap<Long, Boolean> done = new ConcurrentHashMap<>();
    /** Read from the table, not yet handed over (the pipeline was full), and their events. */
    private final ArrayDeque<Handed> pending = new ArrayDeque<>();

    private final ArrayDeque<Event> pendingEvents = new ArrayDeque<>();
    /** Decoded events to record, written at the end of their transaction or per {@link #BATCH}. */
    private final List<String> recordLsns = new ArrayList<>();

    private final List<Integer> recordOrdinals = new ArrayList<>();
    private final List<Long> recordXids = new ArrayList<>();
    private final List<Long> recordIds = new ArrayList<>();
    /** The 32-bit id of the transaction being decoded. */
    private long xid;

    private volatile long acknowledged = Long.MIN_VALUE;
    private SourceContext context;
    private Connection connection;

    private boolean failover;
    private RecordedTransactions recorded = new RecordedTransactions();
    // The last handed-over place in commit order (replay reads after it), and the last place up to which every
    // handed-over event is done (the recorded rows up to there are deleted).
    private long lastLsn;
    private int lastOrdinal = -1;
    private long confirmedLsn;
    private int confirmedOrdinal = -1;
    private int confirmedSinceDelete;
    private long lastDelete = System.nanoTime();
    // Whether the last read found every recorded row (reset when more are recorded); when the next recorded event
    // was first found missing from the table (0 when it was not), and when to read again then.
    private boolean exhausted;
    private long missingSince;
    private long readNotBefore = System.nanoTime();

    OutboxReplay(PostgresConnector postgres, OutboxTables tables, long streamId, String slot, Duration replayAfter) {
        this.postgres = postgres;
        this.tables = tables;
        this.streamId = streamId;
        this.slot = slot;
        this.replayAfterNanos = replayAfter.toNanos();
    }

    /** Before streaming starts: events recorded before a restart are replayed first (the stream starts failed over). */
    void start(SourceContext context) throws SQLException {
        this.context = context;
        try (PreparedStatement st = connection().prepareStatement(tables.replayHighest())) {
            st.setLong(1, streamId);
            st.setString(2, slot);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                recorded = RecordedTransactions.restored(lsn(rs.getString(1)), lsn(rs.getString(2)));
                if (recorded.any()) {
                    failover = true;
                    log.info(
                            "Outbox stream {} (slot {}): replaying the events recorded during an outage before"
                                    + " streaming",
                            streamId,
                            slot);
                }
            }
        }
    }

    private static long lsn(String lsn) {
        return lsn == null ? Long.MIN_VALUE : LogSequenceNumber.valueOf(lsn).asLong();
    }

    /** Whether decoded events are recorded instead of handed over. */
    boolean failedOver() {
        return failover;
    }

    /**
     * Whether a transaction at this commit LSN, decoded while streaming, was recorded during an outage (and so is
     * replayed, not streamed): after a reconnect or a restart the server may send it again.
     */
    boolean recorded(long commitLsn) {
        return recorded.skip(commitLsn, failover);
    }

    /** A decoded transaction begins; its events are recorded with its id. */
    void begin(long xid) {
        this.xid = xid;
    }

    /**
     * An event of the stream is about to be handed to the pipeline, which may finish it at once; then either
     * {@link #handed} or, when it was not taken, {@link #notHanded}.
     */
    void expect(long id) {
        done.put(id, Boolean.FALSE);
    }

    /** The event {@linkplain #expect expected} was handed to the pipeline. */
    void handed(long commitLsn, int ordinal, long id) {
        trim(); // bounded by the pipeline's event bound, also within a large transaction
        add(new Handed(commitLsn, ordinal, xid, id, System.nanoTime()));
    }

    void notHanded(long id) {
        done.remove(id);
    }

    private void add(Handed h) {
        handed.addLast(h);
        lastLsn = h.commitLsn;
        lastOrdinal = h.ordinal;
    }

    /** Pipeline thread: an event is done (confirmed by every sink, or dead-lettered). */
    void delivered(Event event) {
        done.replace(Long.parseLong(event.id()), Boolean.FALSE, Boolean.TRUE);
    }

    /**
     * Pipeline thread: the position the ledger acknowledged (a restart resumes at the next LSN), recorded as the
     * checkpoint of an outage.
     */
    void acknowledged(long position) {
        acknowledged = position;
    }

    /** Whether the oldest event handed over has been waiting for its confirmation longer than allowed. */
    boolean outage() {
        trim();
        Handed oldest = handed.peekFirst();
        return oldest != null && System.nanoTime() - oldest.handedAt > replayAfterNanos;
    }

    /**
     * Fails over: records the unconfirmed events (they stay in the pipeline), writes the checkpoint, and lets the slot
     * move past everything handed over.
     */
    void failOver() throws SQLException {
        long acked = acknowledged;
        long confirmed = acked == Long.MIN_VALUE ? 0 : acked + 1; // the LSN a restart resumes at
        try {
            recordCheckpoint(confirmed);
        } catch (SQLException e) {
            closeConnection();
            throw e;
        }
        failover = true;
        exhausted = false;
        log.warn(
                "Outbox stream {} (slot {}): an event waits for its confirmation longer than {} ms; checkpoint at {},"
                        + " events are recorded in {}.replay and replayed once the sinks confirm again",
                streamId,
                slot,
                Duration.ofNanos(replayAfterNanos).toMillis(),
                confirmed > 0 ? LsnText.of(confirmed) : "the start",
                tables.schema());
        if (!handed.isEmpty()) {
            context.storedDurably(lastLsn); // recorded: the slot may move past them
        }
    }

    /** Records the unconfirmed events handed over, then the checkpoint. */
    private void recordCheckpoint(long confirmed) throws SQLException {
        for (Handed h : handed) {
            if (!Boolean.TRUE.equals(done.get(h.id))) {
                buffer(h.commitLsn, h.ordinal, h.xid, h.id);
            }
        }
        writeRecorded();
        try (PreparedStatement st = connection().prepareStatement(tables.enterFailover())) {
            st.setLong(1, streamId);
            st.setString(2, slot);
            st.setString(3, confirmed > 0 ? LsnText.of(confirmed) : null);
            st.executeUpdate();
        }
    }

    /** Records one decoded event; durable by the end of {@link #commit}. */
    void record(long commitLsn, int ordinal, long id) throws SQLException {
        recorded.recording(commitLsn);
        buffer(commitLsn, ordinal, xid, id);
        if (recordIds.size() >= BATCH) {
            writeRecorded();
        }
    }

    /**
     * The commit of the decoded transaction at {@code commitLsn}: what it recorded is written before the slot may move
     * past it.
     */
    void commit(long commitLsn) throws SQLException {
        writeRecorded();
        recorded.committed(commitLsn);
    }

    private void buffer(long commitLsn, int ordinal, long xid, long id) {
        recordLsns.add(LsnText.of(commitLsn));
        recordOrdinals.add(ordinal);
        recordXids.add(xid);
        recordIds.add(id);
    }

    private void writeRecorded() throws SQLException {
        if (recordIds.isEmpty()) {
            return;
        }
        Connection c = connection();
        try (PreparedStatement st = c.prepareStatement(tables.recordReplay())) {
            st.setLong(1, streamId);
            st.setArray(2, c.createArrayOf("text", recordLsns.toArray()));
            st.setArray(3, c.createArrayOf("int4", recordOrdinals.toArray()));
            st.setArray(4, c.createArrayOf("int8", recordXids.toArray()));
            st.setArray(5, c.createArrayOf("int8", recordIds.toArray()));
            st.executeUpdate();
        } catch (SQLException e) {
            // not written: the stream reconnects, and the server sends these transactions again (none is sealed)
            clearBuffer();
            closeConnection();
            throw e;
        }
        clearBuffer();
        exhausted = false;
    }

    private void clearBuffer() {
        recordLsns.clear();
        recordOrdinals.clear();
        recordXids.clear();
        recordIds.clear();
    }

    /**
     * Between transactions: notices an outage, deletes the rows of confirmed events, hands recorded events over as
     * the pipeline has room, and streams again once all of them are confirmed.
     */
    void betweenTransactions() throws SQLException, InterruptedException {
        try {
            step();
        } catch (SQLException e) {
            closeConnection();
            throw e;
        }
    }

    private void step() throws SQLException, InterruptedException {
        if (!failover) {
            if (!outage()) {
                return;
            }
            failOver();
        }
        trim();
        if (confirmedSinceDelete >= BATCH
                || (confirmedSinceDelete > 0 && System.nanoTime() - lastDelete > DELETE_INTERVAL_NANOS)) {
            deleteConfirmed();
        }
        handOver();
        if (pending.isEmpty() && !exhausted && handed.size() < BATCH && System.nanoTime() - readNotBefore >= 0) {
            read();
            handOver();
        }
        if (pending.isEmpty() && exhausted && handed.isEmpty() && recorded.allComplete()) {
            streamAgain();
        }
    }

    /** Drops the done events from the head of {@link #handed}: below them, everything handed over is done. */
    private void trim() {
        Handed h;
        while ((h = handed.peekFirst()) != null && Boolean.TRUE.equals(done.get(h.id))) {
            handed.pollFirst();
            done.remove(h.id);
            confirmedLsn = h.commitLsn;
            confirmedOrdinal = h.ordinal;
            confirmedSinceDelete++;
        }
    }

    private void handOver() throws InterruptedException {
        Handed next;
        while ((next = pending.peekFirst()) != null) {
            expect(next.id);
            if (!context.publish(pendingEvents.peekFirst(), Duration.ZERO)) {
                notHanded(next.id);
                return; // the pipeline is full: the rest at a later transaction boundary
            }
            pendingEvents.pollFirst();
            add(pending.pollFirst());
        }
    }

    private void read() throws SQLException {
        int rows = 0;
        long fromLsn = lastLsn;
        int fromOrdinal = lastOrdinal;
        try (PreparedStatement st = connection().prepareStatement(tables.replayAfter())) {
            st.setLong(1, streamId);
            st.setString(2, lastLsn > 0 ? LsnText.of(lastLsn) : NO_LSN);
            st.setInt(3, lastOrdinal);
            st.setInt(4, BATCH);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    rows++;
                    long lsn = LogSequenceNumber.valueOf(rs.getString(OutboxRows.COLUMNS + 1))
                            .asLong();
                    int ordinal = rs.getInt(OutboxRows.COLUMNS + 2);
                    long id = rs.getLong(OutboxRows.COLUMNS + 3);
                    if (rs.getString(1) == null) {
                        if (!skip(id, Fate.of(rs.getString(OutboxRows.COLUMNS + 4)))) {
                            break; // read again from this one after a pause
                        }
                        lastLsn = lsn;
                        lastOrdinal = ordinal;
                        continue;
                    }
                    missingSince = 0;
                    pending.addLast(new Handed(lsn, ordinal, 0, id, 0));
                    pendingEvents.addLast(OutboxRows.toEvent(rs));
                    lastLsn = lsn;
                    lastOrdinal = ordinal;
                }
            }
        } catch (SQLException e) {
            pending.clear(); // empty before this read: read these rows again
            pendingEvents.clear();
            lastLsn = fromLsn;
            lastOrdinal = fromOrdinal;
            throw e;
        }
        exhausted = rows < BATCH && missingSince == 0;
    }

    /**
     * A recorded event is not in the table: whether to skip it (else it is read again after a pause), decided from
     * its transaction's status ({@link Fate}). A commit is decoded before it becomes visible to other snapshots (for
     * example while synchronous replication waits for a standby), so a committed event is waited for as long as it is
     * not visible, however long that takes; only a rolled-back transaction, or a visible event deleted from the table,
     * is skipped (logged).
     */
    private boolean skip(long id, Fate fate) {
        long now = System.nanoTime();
        switch (fate) {
            case ABORTED -> {
                log.warn(
                        "Outbox event {} (stream {}) was recorded for replay, but its transaction rolled back: skipped",
                        id,
                        streamId);
                missingSince = 0;
                return true;
            }
            case GONE -> {
                log.error(
                        "Outbox event {} (stream {}) was recorded for replay and committed, but is no longer in"
                                + " {}.events (deleted): it cannot be delivered",
                        id,
                        streamId,
                        tables.schema());
                missingSince = 0;
                return true;
            }
            case UNKNOWN -> {
                log.error(
                        "Outbox event {} (stream {}), recorded for replay before schema version 5 (without its"
                                + " transaction id), is not in {}.events although every transaction that can have"
                                + " written it is finished (deleted, or rolled back): skipped",
                        id,
                        streamId,
                        tables.schema());
                missingSince = 0;
                return true;
            }
            case WAIT -> {
                if (missingSince == 0) {
                    missingSince = now;
                }
            }
        }
        readNotBefore = now + MISSING_PAUSE.toNanos();
        return false;
    }

    private void deleteConfirmed() throws SQLException {
        if (confirmedLsn <= 0) {
            return;
        }
        try (PreparedStatement st = connection().prepareStatement(tables.replayDone())) {
            st.setLong(1, streamId);
            st.setString(2, LsnText.of(confirmedLsn));
            st.setInt(3, confirmedOrdinal);
            st.executeUpdate();
        }
        confirmedSinceDelete = 0;
        lastDelete = System.nanoTime();
    }

    /** Every recorded event is confirmed: from the next transaction on, events are streamed again. */
    private void streamAgain() throws SQLException {
        try (PreparedStatement st = connection().prepareStatement(tables.leaveFailover())) {
            st.setLong(1, streamId);
            st.executeUpdate();
        }
        deleteConfirmed();
        failover = false;
        log.info("Outbox stream {} (slot {}): the recorded events are delivered; streaming again", streamId, slot);
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            // A lock wait past the lock timeout fails the statement; the stream then restarts from the slot. Its reads
            // are bounded: this connection is used on the WAL reader thread, and a half-open socket would otherwise
            // block the stream for good (found by pgbridge-chaos, seed 5908082245199115484: the path froze while this
            // connection was being opened).
            connection = OutboxTables.limitingLockWaits(postgres.connect(PgConnector.SHORT_STATEMENTS));
        }
        return connection;
    }

    private void closeConnection() {
        Connection c = connection;
        connection = null;
        Closing.quietly(c, "the outbox replay connection");
    }

    /** Releases the connection; reader thread, or after it ended. */
    void close() {
        closeConnection();
    }
}
