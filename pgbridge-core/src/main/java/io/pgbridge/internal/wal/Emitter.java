package io.pgbridge.internal.wal;

import io.pgbridge.Event;
import io.pgbridge.internal.replication.FlushTracker;
import io.pgbridge.spi.SourceContext;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import org.postgresql.replication.LogSequenceNumber;

/**
 * Turns decoded changes into events: numbers them within their transaction, skips what was handed over already (the
 * server sends a transaction again after a reconnect until its commit is flushed), and hands them to the pipeline
 * without ever blocking the replication connection's status updates. Reader thread only.
 */
final class Emitter {
    /** What the emitter needs from the replication connection while it waits for room in the pipeline. */
    interface Connection {
        /** Sends a status update now, so that the server does not time the connection out. */
        void keepAlive() throws SQLException;

        /** Whether the source still reads; when not, a waiting hand-over gives up. */
        boolean reading();
    }

    static final String CONTENT_JSON = "application/json";
    private static final String SOURCE = "wal";

    private final SourceContext context;
    private final FlushTracker tracker;
    private final Duration wait;
    private final Connection connection;

    private boolean inTransaction;
    private long position;
    private int ordinal;
    private long lastPosition = Long.MIN_VALUE;
    private int lastOrdinal = -1;
    private long lastCommitted = Long.MIN_VALUE;
    private boolean abandoned;

    Emitter(SourceContext context, FlushTracker tracker, Duration wait, Connection connection) {
        this.context = context;
        this.tracker = tracker;
        this.wait = wait;
        this.connection = connection;
    }

    /** A transaction whose commit record is at {@code commitLsn} starts. */
    void begin(long commitLsn) {
        inTransaction = true;
        position = commitLsn;
        ordinal = 0;
    }

    /** Whether any route takes this channel; decoding a change nobody wants is skipped. */
    boolean wants(String channel) {
        return context.isRouted(channel);
    }

    /**
     * Counts one change of the current transaction and tells whether it is new (not handed over before); call
     * {@link #emit} for it only then.
     */
    boolean next() {
        int n = ordinal++;
        return position > lastPosition || (position == lastPosition && n > lastOrdinal);
    }

    /** Hands over the change counted by the last {@link #next()}. */
    void emit(String channel, byte[] payload, Instant commitTime) throws InterruptedException, SQLException {
        if (abandoned) {
            return;
        }
        int n = ordinal - 1;
        Event event = Event.builder()
                .id(LogSequenceNumber.valueOf(position).asString() + ':' + n)
                .source(SOURCE)
                .channel(channel)
                .payloadUnsafe(payload)
                .contentType(CONTENT_JSON)
                .position(position)
                .commitTime(commitTime)
                .build();
        while (!context.publish(event, wait)) {
            if (!connection.reading()) {
                abandoned = true; // stopping: the event stays unacknowledged and is read again on the next start
                return;
            }
            connection.keepAlive();
        }
        lastPosition = position;
        lastOrdinal = n;
        tracker.published(position);
    }

    /** The transaction ends; a restart after it resumes at {@code resumeLsn}. */
    void commit(long resumeLsn) {
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

    boolean inTransaction() {
        return inTransaction;
    }

    /** The stream restarts (a reconnect): a transaction cut off in the middle is sent again from its start. */
    void reset() {
        inTransaction = false;
    }
}
