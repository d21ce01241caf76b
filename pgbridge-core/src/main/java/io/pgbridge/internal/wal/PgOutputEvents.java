package io.pgbridge.internal.wal;

import io.pgbridge.internal.replication.PgOutputDecoder;
import io.pgbridge.internal.replication.PgOutputHandler;
import io.pgbridge.internal.replication.Relation;
import io.pgbridge.internal.replication.TupleData;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/** pgoutput messages to change events ({@link ChangeEventJson}), one per row change, truncated table or message. */
final class PgOutputEvents implements ChangeDecoder, PgOutputHandler {
    private final PgOutputDecoder decoder = new PgOutputDecoder();
    private final ChangeEventJson json = new ChangeEventJson();
    private final Emitter emitter;
    private final String heartbeatPrefix;
    private ChangeEventJson.Txn txn;
    private Relation relation;
    private String channel;
    private boolean relationWanted;

    PgOutputEvents(Emitter emitter, String heartbeatPrefix) {
        this.emitter = emitter;
        this.heartbeatPrefix = heartbeatPrefix;
    }

    @Override
    public void decode(ByteBuffer message, long messageLsn) throws InterruptedException, SQLException {
        decoder.decode(message, this);
    }

    @Override
    public void begin(long finalLsn, Instant commitTime, long xid) {
        txn = new ChangeEventJson.Txn(finalLsn, xid, commitTime);
        emitter.begin(finalLsn);
    }

    @Override
    public void commit(long commitLsn, long endLsn, Instant commitTime) {
        emitter.commit(endLsn);
        txn = null;
    }

    @Override
    public void insert(Relation r, TupleData newRow) throws InterruptedException, SQLException {
        if (emitter.next() && wanted(r)) {
            byte[] payload;
            try {
                payload = json.insert(r, txn, newRow);
            } catch (RuntimeException e) {
                undecodable("insert", r, newRow, e);
                return;
            }
            emit(channel, payload);
        }
    }

    @Override
    public void update(Relation r, char oldKind, TupleData oldRow, TupleData newRow)
            throws InterruptedException, SQLException {
        if (emitter.next() && wanted(r)) {
            byte[] payload;
            try {
                payload = json.update(r, txn, oldKind, oldRow, newRow);
            } catch (RuntimeException e) {
                undecodable("update", r, newRow, e);
                return;
            }
            emit(channel, payload);
        }
    }

    @Override
    public void delete(Relation r, char oldKind, TupleData oldRow) throws InterruptedException, SQLException {
        if (emitter.next() && wanted(r)) {
            byte[] payload;
            try {
                payload = json.delete(r, txn, oldKind, oldRow);
            } catch (RuntimeException e) {
                undecodable("delete", r, oldRow, e);
                return;
            }
            emit(channel, payload);
        }
    }

    /** A change whose values cannot be written as JSON: handed over as undecodable, with the raw row and why. */
    private void undecodable(String op, Relation r, TupleData row, RuntimeException e)
            throws InterruptedException, SQLException {
        String reason = op + " on " + r.qualifiedName() + ": " + e;
        emitter.emitUndecodable(channel, json.undecodable(op, r, txn, row, reason), txn.commitTime, reason);
    }

    @Override
    public void truncate(List<Relation> relations, boolean cascade, boolean restartIdentity)
            throws InterruptedException, SQLException {
        for (Relation r : relations) {
            if (emitter.next() && wanted(r)) {
                emit(channel, json.truncate(r, txn, cascade, restartIdentity));
            }
        }
    }

    @Override
    public void message(long lsn, boolean transactional, String prefix, byte[] content)
            throws InterruptedException, SQLException {
        if (prefix.equals(heartbeatPrefix)) {
            return; // its only job is to give the server a position to report; FlushTracker flushes it when idle
        }
        if (!transactional) {
            emitter.standalone(lsn, prefix, json.message(lsn, null, prefix, content));
            return;
        }
        if (emitter.next() && emitter.wants(prefix)) {
            emit(prefix, json.message(lsn, txn, prefix, content));
        }
    }

    /**
     * Whether a route takes the changes of {@code r}, and if so sets {@link #channel} to its name. Remembered for the
     * last relation (consecutive changes are mostly on one table): routes do not change, and a new Relation message
     * makes a new object.
     */
    private boolean wanted(Relation r) {
        if (r != relation) {
            relation = r;
            channel = r.qualifiedName();
            relationWanted = emitter.wants(channel);
        }
        return relationWanted;
    }

    private void emit(String channel, byte[] payload) throws InterruptedException, SQLException {
        emitter.emit(channel, payload, txn.commitTime);
    }
}
