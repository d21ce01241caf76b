package io.pgbridge.internal.replication;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes pgoutput protocol version 1 messages (Begin, Commit, Origin, Relation, Type, Insert, Update, Delete,
 * Truncate, Message) as laid out in PostgreSQL's "Logical Replication Message Formats"
 * (protocol-logicalrep-message-formats.html), and keeps the relation cache that change messages refer to.
 *
 * <p>One decoder per replication connection: the server sends a Relation message before the first change of each
 * table <em>in that session</em>, so a new connection needs a new decoder. Not thread-safe.
 */
public final class PgOutputDecoder {
    /** Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
    private static final long PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000L;

    private final Map<Integer, Relation> relations = new HashMap<>();
    /** The relation of the last change: a transaction's changes are mostly to one table (no boxed lookup then). */
    private Relation lastRelation;
    /** The rows handed to the handler, filled again for every change (valid only during the handler's call). */
    private final TupleData newRow = new TupleData();

    private final TupleData oldRow = new TupleData();

    /**
     * Decodes one message (the XLogData payload, positioned at its type byte) and calls {@code handler}.
     *
     * @throws IllegalStateException for an unknown message type or a change on a relation never described
     */
    public void decode(ByteBuffer buf, PgOutputHandler handler) throws InterruptedException, SQLException {
        try {
            dispatch(buf.get(), buf, handler);
        } finally {
            // The rows refer to this message's array: let it go with the call (a large value would otherwise stay in
            // memory for as long as the stream is idle).
            newRow.release();
            oldRow.release();
        }
    }

    private void dispatch(byte type, ByteBuffer buf, PgOutputHandler handler)
            throws InterruptedException, SQLException {
        switch (type) {
            case 'B' -> handler.begin(buf.getLong(), timestamp(buf.getLong()), Integer.toUnsignedLong(buf.getInt()));
            case 'C' -> {
                buf.get(); // flags, unused
                long commitLsn = buf.getLong();
                long endLsn = buf.getLong();
                handler.commit(commitLsn, endLsn, timestamp(buf.getLong()));
            }
            case 'O' -> {
                // Origin of a replicated transaction: not needed for events.
            }
            case 'R' -> handler.relation(relation(buf));
            case 'Y' -> handler.type(buf.getInt(), namespace(string(buf)), string(buf));
            case 'I' -> {
                Relation r = relation(buf.getInt());
                buf.get(); // 'N'
                handler.insert(r, tuple(buf, newRow));
            }
            case 'U' -> {
                Relation r = relation(buf.getInt());
                byte marker = buf.get();
                char oldKind = 0;
                TupleData old = null;
                if (marker == 'K' || marker == 'O') {
                    oldKind = (char) marker;
                    old = tuple(buf, oldRow);
                    buf.get(); // 'N'
                }
                handler.update(r, oldKind, old, tuple(buf, newRow));
            }
            case 'D' -> {
                Relation r = relation(buf.getInt());
                char oldKind = (char) buf.get();
                handler.delete(r, oldKind, tuple(buf, oldRow));
            }
            case 'T' -> {
                int count = buf.getInt();
                byte options = buf.get();
                List<Relation> truncated = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    truncated.add(relation(buf.getInt()));
                }
                handler.truncate(truncated, (options & 1) != 0, (options & 2) != 0);
            }
            case 'M' -> {
                boolean transactional = (buf.get() & 1) != 0;
                long lsn = buf.getLong();
                String prefix = string(buf);
                byte[] content = new byte[buf.getInt()];
                buf.get(content);
                handler.message(lsn, transactional, prefix, content);
            }
            default -> throw new IllegalStateException("unknown pgoutput message type '" + (char) type + "'");
        }
    }

    /** The relation described earlier in this session, for code that decodes messages itself. */
    public Relation relation(int oid) {
        Relation r = lastRelation;
        if (r != null && r.oid() == oid) {
            return r;
        }
        r = relations.get(oid);
        if (r == null) {
            throw new IllegalStateException("pgoutput change for relation " + oid + " before its Relation message");
        }
        lastRelation = r;
        return r;
    }

    private Relation relation(ByteBuffer buf) {
        int oid = buf.getInt();
        String schema = namespace(string(buf));
        String table = string(buf);
        char identity = (char) buf.get();
        int count = buf.getShort();
        List<Relation.Column> columns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            boolean key = (buf.get() & 1) != 0;
            String name = string(buf);
            columns.add(new Relation.Column(name, buf.getInt(), buf.getInt(), key));
        }
        Relation r = new Relation(oid, schema, table, identity, columns);
        relations.put(oid, r);
        lastRelation = r;
        return r;
    }

    /**
     * A TupleData section into {@code row}, read from the buffer's array (not through the buffer's per-byte checked
     * accessors, which were a tenth of the reader's time on a wide table) and referring to it for the values, which are
     * not copied; a buffer without an accessible array is copied first.
     */
    private static TupleData tuple(ByteBuffer buf, TupleData row) {
        byte[] a;
        int base;
        if (buf.hasArray()) {
            a = buf.array();
            base = buf.arrayOffset();
        } else {
            a = new byte[buf.limit()];
            buf.get(0, a);
            base = 0;
        }
        int p = base + buf.position();
        int end = base + buf.limit();
        int count = (short) (((a[p] & 0xff) << 8) | (a[p + 1] & 0xff));
        p += 2;
        row.fill(count);
        for (int i = 0; i < count; i++) {
            byte kind = a[p++];
            if (kind == TupleData.TEXT || kind == TupleData.BINARY) {
                int length = ((a[p] & 0xff) << 24)
                        | ((a[p + 1] & 0xff) << 16)
                        | ((a[p + 2] & 0xff) << 8)
                        | (a[p + 3] & 0xff);
                p += 4;
                if (length < 0 || length > end - p) {
                    throw new IllegalStateException("pgoutput value of " + length + " bytes overruns its message");
                }
                row.set(i, kind, a, p, length);
                p += length;
            } else {
                row.set(i, kind, null, 0, 0);
            }
        }
        buf.position(p - base);
        return row;
    }

    /** pgoutput sends an empty namespace for pg_catalog. */
    private static String namespace(String s) {
        return s.isEmpty() ? "pg_catalog" : s;
    }

    private static String string(ByteBuffer buf) {
        int start = buf.position();
        int end = start;
        while (buf.get(end) != 0) {
            end++;
        }
        String s;
        if (buf.hasArray()) {
            s = new String(buf.array(), buf.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
        } else {
            byte[] b = new byte[end - start];
            buf.get(start, b);
            s = new String(b, StandardCharsets.UTF_8);
        }
        buf.position(end + 1);
        return s;
    }

    /** A pgoutput timestamp: microseconds since 2000-01-01 UTC. */
    public static Instant timestamp(long pgMicros) {
        long micros = pgMicros + PG_EPOCH_OFFSET_MICROS;
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }
}
