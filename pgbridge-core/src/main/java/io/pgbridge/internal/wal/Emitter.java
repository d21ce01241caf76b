package io.pgbridge.internal.wal;

import io.pgbridge.Event;
import io.pgbridge.internal.replication.FlushTracker;
import io.pgbridge.spi.SourceContext;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.postgresql.replication.LogSequenceNumber;

/**
 * Turns decoded changes into events: numbers them within their transaction, skips what was handed over already (the
 * server sends a transaction again after a reconnect until its commit is flushed), and hands them to the pipeline
 * without ever blocking the replication connection's status updates. Reader thread only.
 */
public final class Emitter {
    /** What the emitter needs from the replication connection while it waits for room in the pipeline. */
    interface Connection {
        /** Sends a status update now, so that the server does not time the connection out. */
        void keepAlive() throws SQLException;

        /** Whether the source still reads; when not, a waiting hand-over gives up. */
        boolean reading();
    }

    static final String CONTENT_JSON = "application/json";

    private final String source;
    private final SourceContext context;
    private final FlushTracker tracker;
    private final Duration wait;
    private final Connection connection;

    private boolean inTransaction;
    private long position;
    private String positionText;
    private int ordinal;
    private long lastPosition = Long.MIN_VALUE;
    private int lastOrdinal = -1;
    private long lastCommitted = Long.MIN_VALUE;
    private boolean abandoned;

    Emitter(String source, SourceContext context, FlushTracker tracker, Duration wait, Connection connection) {
        this.source = source;
        this.context = context;
        this.tracker = tracker;
        this.wait = wait;
        this.connection = connection;
    }

    /** A transaction whose commit record is at {@code commitLsn} starts. */
    public void begin(long commitLsn) {
        inTransaction = true;
        position = commitLsn;
        positionText = null;
        ordinal = 0;
    }

    /** Whether any route takes this channel; decoding a change nobody wants is skipped. */
    public boolean wants(String channel) {
        return context.isRouted(channel);
    }

    /**
     * Counts one change of the current transaction and tells whether it is new (not handed over before); call
     * {@link #emit} for it only then.
     */
    public boolean next() {
        int n = ordinal++;
        return position > lastPosition || (position == lastPosition && n > lastOrdinal);
    }

    /** Hands over the change counted by the last {@link #next()}, with the id {@code <commit LSN>:<ordinal>}. */
    void emit(String channel, byte[] payload, Instant commitTime) throws InterruptedException, SQLException {
        if (positionText == null) {
            positionText = LogSequenceNumber.valueOf(position).asString() + ':';
        }
        emit(Event.builder()
                .id(positionText + (ordinal - 1))
                .channel(channel)
                .payloadUnsafe(payload)
                .contentType(CONTENT_JSON)
                .commitTime(commitTime));
    }

    /**
     * Hands over the change counted by the last {@link #next()}, built by the caller (id, channel, payload, ...); the
     * emitter sets its source and position (the commit LSN). Blocks while the pipeline is full, keeping the
     * replication connection alive. The pipeline may hold the event back from idle sinks until {@link #flush()}.
     */
    public void emit(Event.Builder event) throws InterruptedException, SQLException {
        emit(event, () -> false);
    }

    /**
     * Like {@link #emit(Event.Builder)}, but while the pipeline is full asks {@code giveUp} between waits, and returns
     * {@code false} without handing the event over once it says so (the caller then takes care of that event, and the
     * slot may move past it only when that care is durable). Returns {@code true} otherwise, also when the source is
     * stopping (the event is then read again on the next start).
     */
    public boolean emit(Event.Builder event, BooleanSupplier giveUp) throws InterruptedException, SQLException {
        if (abandoned) {
            return true;
        }
        int n = ordinal - 1;
        Event e = event.source(source).position(position).build();
        while (!context.publishDeferred(e, wait)) {
            if (!connection.reading()) {
                abandoned = true; // stopping: the event stays unacknowledged and is read again on the next start
                return true;
            }
            if (giveUp.getAsBoolean()) {
                return false;
            }
            connection.keepAlive();
        }
        lastPosition = position;
        lastOrdinal = n;
        tracker.published(position);
        return true;
    }

    /** The commit LSN of the transaction being decoded (the position of its events). */
    public long position() {
        return position;
    }

    /** The ordinal in its transaction of the change counted by the last {@link #next()}, from 0. */
    public int ordinal() {
        return ordinal - 1;
    }

    /**
     * Lets the events handed over so far go on to the sinks (they are held back to make batches): call when the
     * stream has nothing more to read for now, after a commit, and before reading stops.
     */
    void flush() {
        context.flush();
    }

    /** The transaction ends; a restart after it resumes at {@code resumeLsn}. */
    public void commit(long resumeLsn) {
        inTransaction = false;
        if (abandoned || position <= lastCommitted) {
            return;
        }
        lastCommitted = position;
        tracker.committed(position, resumeLsn);
    }

    /** A non-transactional logical decoding message at {@code lsn}: a transaction of its own. */
    void standalone(long lsn, String channel, byte[] payload) throws InterruptedException, SQLException {
        begin(lsn);
        if (next() && wants(channel)) {
            emit(channel, payload, null);
        }
        commit(lsn + 1);
    }

    /** Whether a transaction is being decoded (between its begin and its commit). */
    public boolean inTransaction() {
        return inTransaction;
    }

    /** The stream restarts (a reconnect): a transaction cut off in the middle is sent again from its start. */
    void reset() {
        inTransaction = false;
    }
}
