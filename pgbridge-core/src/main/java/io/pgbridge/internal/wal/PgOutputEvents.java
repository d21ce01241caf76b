package io.pgbridge.internal.wal;

import io.pgbridge.Event;
import io.pgbridge.internal.replication.PgOutputDecoder;
import io.pgbridge.internal.replication.PgOutputHandler;
import io.pgbridge.internal.replication.Relation;
import io.pgbridge.internal.replication.TupleData;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** pgoutput messages to change events ({@link ChangeEventJson}), one per row change, truncated table or message. */
final class PgOutputEvents implements ChangeDecoder, PgOutputHandler {
    private final PgOutputDecoder decoder = new PgOutputDecoder();
    private final ChangeEventJson json = new ChangeEventJson();
    private final Emitter emitter;
    private final String heartbeatPrefix;
    private final BackfillWindows windows;
    private final RowIds rowIds = new RowIds();
    private ChangeEventJson.Txn txn;
    private Relation relation;
    private String channel;
    private boolean relationWanted;

    /** @param windows the online backfills' watermark windows, told of every change while one is open */
    PgOutputEvents(Emitter emitter, String heartbeatPrefix, BackfillWindows windows) {
        this.emitter = emitter;
        this.heartbeatPrefix = heartbeatPrefix;
        this.windows = windows;
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
        if (windows.anyOpen()) {
            backfilled(r, newRow);
        }
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
        if (windows.anyOpen()) {
            backfilled(r, newRow);
            if (oldRow != null) {
                backfilled(r, oldRow);
            }
        }
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
        if (windows.anyOpen()) {
            backfilled(r, oldRow);
        }
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
            if (windows.anyOpen()) {
                windows.truncated(r.qualifiedName());
            }
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
        if (prefix.equals(Backfill.PREFIX) && !transactional) {
            watermark(lsn, new String(content, StandardCharsets.UTF_8));
            return;
        }
        if (!transactional) {
            emitter.standalone(lsn, prefix, json.message(lsn, null, prefix, content));
            return;
        }
        if (emitter.next() && emitter.wants(prefix)) {
            emit(prefix, json.message(lsn, txn, prefix, content));
        }
    }

    /** Tells the backfill windows of a change to a row of {@code r} while a window on it is open. */
    private void backfilled(Relation r, TupleData row) {
        List<String> names = windows.keyNames(r.qualifiedName());
        if (names == null) {
            return;
        }
        List<String> key = new ArrayList<>(names.size());
        for (String name : names) {
            int i = column(r, name);
            String value = i < 0 ? null : row.text(i);
            if (value == null) {
                return; // not a key this table's backfill reads (a replica identity other than the key)
            }
            key.add(value);
        }
        windows.changed(r.qualifiedName(), key);
    }

    private static int column(Relation r, String name) {
        for (int i = 0; i < r.columns().size(); i++) {
            if (r.columns().get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A backfill watermark ({@code <chunk>:low} or {@code <chunk>:high}). At a high watermark the chunk's rows that did
     * not change inside the window are handed over as a transaction of their own at position {@code lsn - 1}, sealed
     * there, like any non-transactional message ({@link Emitter#standalone}): pgoutput gives a message the LSN where
     * its record ends, which can be the commit LSN of the very next transaction, so the rows must sit below it.
     */
    private void watermark(long lsn, String content) throws InterruptedException, SQLException {
        int colon = content.lastIndexOf(':');
        String chunk = content.substring(0, Math.max(colon, 0));
        if (content.endsWith(":low")) {
            windows.low(chunk);
            return;
        }
        String table = windows.table(chunk);
        String idPrefix = windows.idPrefix(chunk);
        List<InitialSnapshot.Row> rows = windows.high(chunk, lsn - 1);
        if (rows == null) {
            return; // not this bridge's chunk (written before a restart), or handled already
        }
        emitter.begin(lsn - 1);
        for (InitialSnapshot.Row row : rows) {
            if (emitter.next() && emitter.wants(table)) {
                emitter.emit(Event.builder()
                        .id(rowIds.id(idPrefix, table, row.key()))
                        .channel(table)
                        .payloadUnsafe(row.payload())
                        .contentType(Emitter.CONTENT_JSON));
            }
        }
        emitter.commit(lsn);
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
