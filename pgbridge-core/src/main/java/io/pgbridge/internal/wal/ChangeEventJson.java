package io.pgbridge.internal.wal;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import io.pgbridge.internal.replication.LsnText;
import io.pgbridge.internal.replication.Relation;
import io.pgbridge.internal.replication.TimestampText;
import io.pgbridge.internal.replication.TupleData;
import io.pgbridge.internal.replication.ValueWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the JSON payload of a WAL change event. One object per row change:
 *
 * <pre>{@code
 * {"op":"update","schema":"public","table":"users","lsn":"0/1A2B3C4","xid":731,
 *  "commitTime":"2026-11-22T03:04:05.123456Z",
 *  "new":{"id":1,"name":"Ann","doc":{"a":[1,2]}},
 *  "key":{"id":1},
 *  "unchanged":["avatar"]}
 * }</pre>
 *
 * <ul>
 *   <li>{@code op}: {@code insert}, {@code update}, {@code delete}, {@code truncate}, {@code message}, or {@code r}
 *       for a row read by the initial snapshot (shaped as an insert, without {@code xid} and {@code commitTime}).
 *   <li>{@code schema}, {@code table}: the table (absent for {@code message}).
 *   <li>{@code lsn}: the commit LSN of the transaction (for a non-transactional message, the message's LSN), in
 *       PostgreSQL's {@code X/X} notation; {@code xid}: the transaction id (absent for a non-transactional message);
 *       {@code commitTime}: ISO-8601 UTC (absent for a non-transactional message).
 *   <li>{@code new} (insert, update): the new row, column name to value, values typed as {@link ValueWriter}
 *       describes; SQL NULL is JSON {@code null}.
 *   <li>{@code key} (insert, update, delete; tables whose replica identity is the primary key or an index): the
 *       identity columns of the row: for an insert those of {@code new}, for an update and a delete those of the old
 *       row. For an update that did not change the key the server sends no old key, and {@code key} is taken from
 *       {@code new}. So every change of one row carries the same {@code key} until the key itself changes; sinks
 *       with partitions (Kafka) use it as the record key.
 *   <li>{@code old} (update, delete; tables with {@code REPLICA IDENTITY FULL}): the whole old row.
 *   <li>{@code unchanged} (update): columns whose value is a TOASTed value the update did not change, which
 *       PostgreSQL does not send. They are absent from {@code new} (never {@code null}) unless the old row holds them
 *       (REPLICA IDENTITY FULL), in which case {@code new} has the old value and they are not listed.
 *   <li>{@code cascade}, {@code restartIdentity} (truncate): the TRUNCATE options; one event per truncated table.
 *   <li>{@code prefix}, {@code transactional}, {@code content} ({@code message}, from
 *       {@code pg_logical_emit_message}): the content as a UTF-8 string.
 * </ul>
 *
 * Not thread-safe: one per reader thread.
 */
final class ChangeEventJson {
    private static final JsonFactory FACTORY = new JsonFactory();

    private static final SerializedString OP = new SerializedString("op");
    private static final SerializedString SCHEMA = new SerializedString("schema");
    private static final SerializedString TABLE = new SerializedString("table");
    private static final SerializedString LSN = new SerializedString("lsn");
    private static final SerializedString XID = new SerializedString("xid");
    private static final SerializedString COMMIT_TIME = new SerializedString("commitTime");
    private static final SerializedString NEW = new SerializedString("new");
    private static final int MAX_CACHED_RELATIONS = 10_000;

    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024);
    private JsonGenerator generator;
    /** Names of each relation, JSON-encoded once; keyed by identity (a Relation message makes a new object). */
    private final Map<Relation, Names> names = new IdentityHashMap<>();

    /** A relation's schema, table and column names, encoded once. */
    private static final class Names {
        final SerializedString schema;
        final SerializedString table;
        final SerializedString[] columns;

        Names(Relation r) {
            schema = new SerializedString(r.schema());
            table = new SerializedString(r.table());
            columns = new SerializedString[r.columns().size()];
            for (int i = 0; i < columns.length; i++) {
                columns[i] = new SerializedString(r.columns().get(i).name());
            }
        }
    }

    private Names names(Relation r) {
        Names n = names.get(r);
        if (n == null) {
            if (names.size() >= MAX_CACHED_RELATIONS) {
                names.clear();
            }
            n = new Names(r);
            names.put(r, n);
        }
        return n;
    }

    byte[] insert(Relation r, Txn txn, TupleData newRow) {
        try {
            JsonGenerator g = start();
            header(g, "insert", r, txn);
            g.writeFieldName(NEW);
            row(g, r, newRow, null, false);
            if (keyed(r)) {
                g.writeFieldName("key");
                row(g, r, newRow, null, true);
            }
            return finish(g);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    /**
     * A row read by the initial snapshot: shaped as an insert, with {@code op} {@code r}, {@code lsn} the slot's
     * consistent point, and no {@code xid} or {@code commitTime} (the rows of a snapshot have no one transaction).
     */
    byte[] read(Relation r, SerializedString lsn, TupleData row) {
        try {
            Names n = names(r);
            JsonGenerator g = start();
            g.writeFieldName(OP);
            g.writeString("r");
            g.writeFieldName(SCHEMA);
            g.writeString(n.schema);
            g.writeFieldName(TABLE);
            g.writeString(n.table);
            g.writeFieldName(LSN);
            g.writeString(lsn);
            g.writeFieldName(NEW);
            row(g, r, row, null, false);
            if (keyed(r)) {
                g.writeFieldName("key");
                row(g, r, row, null, true);
            }
            return finish(g);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    byte[] update(Relation r, Txn txn, char oldKind, TupleData oldRow, TupleData newRow) {
        try {
            JsonGenerator g = start();
            header(g, "update", r, txn);
            TupleData full = oldKind == 'O' ? oldRow : null;
            g.writeFieldName(NEW);
            row(g, r, newRow, full, false);
            oldKeyOrRow(g, r, oldKind, oldKind == 0 ? newRow : oldRow);
            List<String> unchanged = unchangedToast(r, newRow, full);
            if (!unchanged.isEmpty()) {
                g.writeArrayFieldStart("unchanged");
                for (String name : unchanged) {
                    g.writeString(name);
                }
                g.writeEndArray();
            }
            return finish(g);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    byte[] delete(Relation r, Txn txn, char oldKind, TupleData oldRow) {
        try {
            JsonGenerator g = start();
            header(g, "delete", r, txn);
            oldKeyOrRow(g, r, oldKind, oldRow);
            return finish(g);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    byte[] truncate(Relation r, Txn txn, boolean cascade, boolean restartIdentity) {
        try {
            JsonGenerator g = start();
            header(g, "truncate", r, txn);
            g.writeBooleanField("cascade", cascade);
            g.writeBooleanField("restartIdentity", restartIdentity);
            return finish(g);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    byte[] message(long lsn, Txn txn, String prefix, byte[] content) {
        try {
            JsonGenerator g = start();
            g.writeStringField("op", "message");
            g.writeStringField("lsn", LsnText.of(txn != null ? txn.commitLsn : lsn));
            if (txn != null) {
                g.writeNumberField("xid", txn.xid);
                g.writeFieldName(COMMIT_TIME);
                g.writeString(txn.commitTimeText());
            }
            g.writeStringField("prefix", prefix);
            g.writeBooleanField("transactional", txn != null);
            g.writeStringField("content", new String(content, StandardCharsets.UTF_8));
            return finish(g);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    /**
     * The event of a change that could not be written as above (a value its type's writer refuses): the header, the
     * reason as {@code error}, and the row as {@code raw}, each column's text as the server sent it, untyped.
     */
    byte[] undecodable(String op, Relation r, Txn txn, TupleData row, String reason) {
        try {
            JsonGenerator g = start();
            header(g, op, r, txn);
            g.writeStringField("error", reason);
            if (row != null) {
                g.writeObjectFieldStart("raw");
                List<Relation.Column> columns = r.columns();
                for (int i = 0; i < columns.size() && i < row.size(); i++) {
                    g.writeFieldName(columns.get(i).name());
                    String text = row.text(i);
                    if (text != null) {
                        g.writeString(text);
                    } else {
                        g.writeNull();
                    }
                }
                g.writeEndObject();
            }
            return finish(g);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    private void header(JsonGenerator g, String op, Relation r, Txn txn) throws IOException {
        Names n = names(r);
        g.writeFieldName(OP);
        g.writeString(op);
        g.writeFieldName(SCHEMA);
        g.writeString(n.schema);
        g.writeFieldName(TABLE);
        g.writeString(n.table);
        g.writeFieldName(LSN);
        g.writeString(txn.lsnText());
        g.writeFieldName(XID);
        g.writeNumber(txn.xid);
        g.writeFieldName(COMMIT_TIME);
        g.writeString(txn.commitTimeText());
    }

    private void oldKeyOrRow(JsonGenerator g, Relation r, char oldKind, TupleData row) throws IOException {
        if (oldKind == 'O') {
            g.writeFieldName("old");
            row(g, r, row, null, false);
        } else if (keyed(r)) {
            g.writeFieldName("key");
            row(g, r, row, null, true);
        }
    }

    /** Whether the table's replica identity is its primary key or an index, whose columns make {@code key}. */
    private static boolean keyed(Relation r) {
        return r.replicaIdentity() != 'n' && r.replicaIdentity() != 'f';
    }

    /** Writes a row; unchanged TOASTed values come from {@code fallback} when given, else are left out. */
    private void row(JsonGenerator g, Relation r, TupleData row, TupleData fallback, boolean keyOnly)
            throws IOException {
        g.writeStartObject();
        SerializedString[] columnNames = names(r).columns;
        List<Relation.Column> columns = r.columns();
        for (int i = 0; i < columns.size() && i < row.size(); i++) {
            Relation.Column c = columns.get(i);
            if (keyOnly && !c.key()) {
                continue;
            }
            TupleData source = row;
            if (row.kind(i) == TupleData.UNCHANGED_TOAST) {
                if (fallback == null || fallback.kind(i) == TupleData.UNCHANGED_TOAST) {
                    continue;
                }
                source = fallback;
            }
            g.writeFieldName(columnNames[i]);
            switch (source.kind(i)) {
                case TupleData.NULL -> g.writeNull();
                case TupleData.TEXT ->
                    ValueWriter.write(g, c.typeOid(), source.array(i), source.offset(i), source.length(i));
                default -> g.writeBinary(source.array(i), source.offset(i), source.length(i));
            }
        }
        g.writeEndObject();
    }

    private static List<String> unchangedToast(Relation r, TupleData newRow, TupleData fallback) {
        List<String> names = null;
        for (int i = 0; i < newRow.size(); i++) {
            if (newRow.kind(i) == TupleData.UNCHANGED_TOAST
                    && (fallback == null || fallback.kind(i) == TupleData.UNCHANGED_TOAST)) {
                if (names == null) {
                    names = new java.util.ArrayList<>();
                }
                names.add(r.columns().get(i).name());
            }
        }
        return names == null ? List.of() : names;
    }

    /**
     * Starts an event's object. One generator serves every event (creating one per event cost a context and buffer
     * look-ups on the reader thread): each event is a root value written without separator, flushed and cut from the
     * buffer by {@link #finish}. The generator is checked out meanwhile, so that one a failure left in the middle of
     * a document is dropped, never reused.
     */
    private JsonGenerator start() throws IOException {
        buffer.reset();
        JsonGenerator g = generator;
        generator = null;
        if (g == null) {
            g = FACTORY.createGenerator(buffer, JsonEncoding.UTF8);
            g.setRootValueSeparator(null);
        }
        g.writeStartObject();
        return g;
    }

    private byte[] finish(JsonGenerator g) throws IOException {
        g.writeEndObject();
        g.flush();
        generator = g;
        return buffer.toByteArray();
    }

    private static UncheckedIOException failed(IOException e) {
        return new UncheckedIOException("cannot write a change event", e); // in-memory: does not happen
    }

    /** The transaction being decoded. */
    static final class Txn {
        final long commitLsn;
        final long xid;
        final Instant commitTime;
        private SerializedString lsnText;
        private SerializedString commitTimeText;

        Txn(long commitLsn, long xid, Instant commitTime) {
            this.commitLsn = commitLsn;
            this.xid = xid;
            this.commitTime = commitTime;
        }

        SerializedString commitTimeText() {
            if (commitTimeText == null) {
                commitTimeText = new SerializedString(TimestampText.utc(commitTime));
            }
            return commitTimeText;
        }

        SerializedString lsnText() {
            if (lsnText == null) {
                lsnText = new SerializedString(LsnText.of(commitLsn));
            }
            return lsnText;
        }
    }
}
