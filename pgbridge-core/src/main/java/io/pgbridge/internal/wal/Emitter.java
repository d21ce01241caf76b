package io.pgbridge.internal.wal;

import io.pgbridge.Event;
import io.pgbridge.internal.replication.FlushTracker;
import io.pgbridge.internal.replication.LsnText;
import io.pgbridge.spi.SourceContext;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/**
 * Turns decoded changes into events: numbers them within their transaction, skips what was handed over already (the
 * server sends a transaction again after a reconnect until its commit is flushed), and hands them to the pipeline
 * without ever blocking the replication connection's status updates. Reader thread only.
 *
 * <p>Positions: every change of a transaction carries its commit LSN; once the commit was decoded and every change
 * handed over, the transaction is sealed at its end LSN minus one (the next transaction's commit record starts at or
 * after that end), so an acknowledged position {@code p} means "resume at {@code p + 1}", the end LSN. A transaction
 * whose hand-over was abandoned (the source stopped in its middle) is never sealed.
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
    private final Event.Builder change = Event.builder().contentType(CONTENT_JSON);

    private boolean inTransaction;
    private long position;
    private String positionText;
    private int ordinal;
    private long lastPosition = Long.MIN_VALUE;
    private int lastOrdinal = -1;
    private long lastSealed = Long.MIN_VALUE;
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
        emit(change(channel, payload, commitTime), () -> false, null);
    }

    /**
     * Hands over the change counted by the last {@link #next()} as one its decoder could not turn into an event: the
     * pipeline applies the failure policy to it ({@link SourceContext#publishUndecodable}), so that it is neither lost
     * nor a reason to stop reading.
     */
    void emitUndecodable(String channel, byte[] payload, Instant commitTime, String reason)
            throws InterruptedException, SQLException {
        emit(change(channel, payload, commitTime), () -> false, reason);
    }

    /** The change counted by the last {@link #next()}, in the one builder this emitter's changes are built with. */
    private Event.Builder change(String channel, byte[] payload, Instant commitTime) {
        if (positionText == null) {
            positionText = LsnText.of(position) + ':';
        }
        return change.id(positionText + (ordinal - 1))
                .channel(channel)
                .payloadUnsafe(payload)
                .commitTime(commitTime);
    }

    /**
     * Hands over the change counted by the last {@link #next()}, built by the caller (id, channel, payload, ...); the
     * emitter sets its source and position (the commit LSN). Blocks while the pipeline is full, keeping the
     * replication connection alive. The pipeline may hold the event back from idle sinks until {@link #flush()}.
     */
    public void emit(Event.Builder event) throws InterruptedException, SQLException {
        emit(event, () -> false, null);
    }

    /**
     * Like {@link #emit(Event.Builder)}, but while the pipeline is full asks {@code giveUp} between waits, and returns
     * {@code false} without handing the event over once it says so (the caller then takes care of that event, and the
     * slot may move past it only when that care is durable). Returns {@code true} otherwise, also when the source is
     * stopping (the event is then read again on the next start).
     */
    public boolean emit(Event.Builder event, BooleanSupplier giveUp) throws InterruptedException, SQLException {
        return emit(event, giveUp, null);
    }

    /**
     * Like {@link #emit(Event.Builder, BooleanSupplier)}; with a {@code undecodable} reason, the event is handed over
     * as one its decoder refused ({@link SourceContext#publishUndecodable}).
     */
    public boolean emit(Event.Builder event, BooleanSupplier giveUp, String undecodable)
            throws InterruptedException, SQLException {
        if (abandoned) {
            return true;
        }
        int n = ordinal - 1;
        Event e = event.source(source).position(position).build();
        while (!(undecodable == null
                ? context.publishDeferred(e, wait)
                : context.publishUndecodable(e, undecodable, wait))) {
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

    /**
     * The transaction's commit was decoded and every change of it handed over; a restart after it resumes at
     * {@code endLsn} (its commit record's end). Seals it, unless the hand-over was abandoned: then it stays open and
     * nothing after it is ever flushed by this connection.
     */
    public void commit(long endLsn) {
        if (abandoned) {
            return;
        }
        inTransaction = false;
        seal(endLsn - 1);
    }

    private void seal(long position) {
        if (position <= lastSealed) {
            return; // sent again after a reconnect: sealed already
        }
        lastSealed = position;
        context.seal(position);
        tracker.sealed(position);
    }

    /**
     * A non-transactional logical decoding message whose record ends at or starts at {@code lsn} (the plugin decides
     * which): a transaction of its own, at position {@code lsn - 1}, resumed after at {@code lsn}.
     */
    void standalone(long lsn, String channel, byte[] payload) throws InterruptedException, SQLException {
        begin(lsn - 1);
        if (next() && wants(channel)) {
            emit(channel, payload, null);
        }
        commit(lsn);
    }

    /** Whether a transaction is being decoded (between its begin and its commit). */
    public boolean inTransaction() {
        return inTransaction;
    }

    /** The stream restarts (a reconnect): a transaction cut off in the middle is sent again from its start. */
    void reset() {
        if (!abandoned) {
            inTransaction = false;
        }
    }
}
