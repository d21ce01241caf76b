package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Whatever the decoder decoded before, each row a handler receives holds exactly the values of its own message: the
 * decoder fills the same two {@link TupleData} instances for every change (new row, old row), so a row of fewer
 * columns, a NULL where the row before had a value, or an update's old and new rows read in the same call must never
 * show what an earlier message left there. Sequences of inserts, updates (with and without an old row) and deletes on
 * tables of 0 to 9 columns, with NULL, unchanged TOAST and text values of 0 to 40 bytes.
 */
class PgOutputDecoderPropertyTest {
    private static final int TABLES = 3;

    /** A value as the handler saw it, or as it was encoded: its kind and, for text, its bytes. */
    private record Value(byte kind, byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Value v && v.kind == kind && Arrays.equals(v.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return 31 * kind + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return (char) kind + (bytes == null ? "" : Arrays.toString(bytes));
        }
    }

    /** One change: {@code op} I, U or D; {@code oldKind} K, O or 0 (an update without its old row). */
    private record Change(char op, int table, char oldKind, List<Value> oldRow, List<Value> newRow) {}

    @Property(tries = 1_000)
    void eachRowHoldsTheValuesOfItsOwnMessage(@ForAll("changes") List<Change> changes) throws Exception {
        int[] widths = new int[TABLES];
        for (Change c : changes) {
            widths[c.table] = Math.max(widths[c.table], Math.max(c.oldRow.size(), c.newRow.size()));
        }
        List<String> seen = new ArrayList<>();
        PgOutputHandler handler = new Recorder(seen);
        PgOutputDecoder decoder = new PgOutputDecoder();
        for (int t = 0; t < TABLES; t++) {
            decoder.decode(relation(t, widths[t]), handler);
        }
        List<String> expected = new ArrayList<>();
        for (Change c : changes) {
            decoder.decode(message(c), handler);
            expected.add(
                    switch (c.op) {
                        case 'I' -> "I " + c.table + " new=" + c.newRow;
                        case 'U' ->
                            "U " + c.table + " " + c.oldKind + " old=" + (c.oldKind == 0 ? "none" : c.oldRow) + " new="
                                    + c.newRow;
                        default -> "D " + c.table + " " + c.oldKind + " old=" + c.oldRow;
                    });
        }
        assertThat(seen).isEqualTo(expected);
    }

    @Provide
    Arbitrary<List<Change>> changes() {
        Arbitrary<Value> value = Arbitraries.oneOf(
                Arbitraries.just(new Value(TupleData.NULL, null)),
                Arbitraries.just(new Value(TupleData.UNCHANGED_TOAST, null)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40).map(b -> new Value(TupleData.TEXT, b)));
        Arbitrary<List<Value>> row = value.list().ofMaxSize(9);
        Arbitrary<Change> change = Combinators.combine(
                        Arbitraries.of('I', 'U', 'D'),
                        Arbitraries.integers().between(0, TABLES - 1),
                        Arbitraries.of('K', 'O', (char) 0),
                        row,
                        row)
                .as((op, table, oldKind, oldRow, newRow) -> switch (op) {
                    case 'I' -> new Change(op, table, (char) 0, List.of(), newRow);
                    case 'U' -> new Change(op, table, oldKind, oldKind == 0 ? List.of() : oldRow, newRow);
                    default -> new Change(op, table, oldKind == 0 ? 'K' : oldKind, oldRow, List.of());
                });
        return change.list().ofMinSize(1).ofMaxSize(12);
    }

    /** Records each row as it reads during the call, as the contract of {@link TupleData} asks. */
    private record Recorder(List<String> seen) implements PgOutputHandler {
        @Override
        public void begin(long finalLsn, Instant commitTime, long xid) {}

        @Override
        public void commit(long commitLsn, long endLsn, Instant commitTime) {}

        @Override
        public void insert(Relation r, TupleData newRow) {
            seen.add("I " + r.oid() + " new=" + values(newRow));
        }

        @Override
        public void update(Relation r, char oldKind, TupleData oldRow, TupleData newRow) {
            String old = oldRow == null ? "none" : values(oldRow).toString();
            seen.add("U " + r.oid() + " " + oldKind + " old=" + old + " new=" + values(newRow));
        }

        @Override
        public void delete(Relation r, char oldKind, TupleData oldRow) {
            seen.add("D " + r.oid() + " " + oldKind + " old=" + values(oldRow));
        }

        @Override
        public void truncate(List<Relation> relations, boolean cascade, boolean restartIdentity) {}

        @Override
        public void message(long lsn, boolean transactional, String prefix, byte[] content) {}

        private static List<Value> values(TupleData row) {
            List<Value> values = new ArrayList<>();
            for (int i = 0; i < row.size(); i++) {
                byte[] bytes = row.array(i) == null
                        ? null
                        : Arrays.copyOfRange(row.array(i), row.offset(i), row.offset(i) + row.length(i));
                values.add(new Value(row.kind(i), bytes));
            }
            return values;
        }
    }

    /** A Relation message for table {@code oid} with {@code columns} text columns. */
    private static ByteBuffer relation(int oid, int columns) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(bytes);
        o.writeByte('R');
        o.writeInt(oid);
        cstring(o, "public");
        cstring(o, "t" + oid);
        o.writeByte('d');
        o.writeShort(columns);
        for (int i = 0; i < columns; i++) {
            o.writeByte(i == 0 ? 1 : 0);
            cstring(o, "c" + i);
            o.writeInt(25); // text
            o.writeInt(-1);
        }
        return ByteBuffer.wrap(bytes.toByteArray());
    }

    /** The change's message, between bytes that are not part of it (as in pgjdbc's buffer). */
    private static ByteBuffer message(Change c) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(bytes);
        o.write(new byte[] {'x', 'y', 'z'});
        o.writeByte(c.op);
        o.writeInt(c.table);
        if (c.op == 'I') {
            o.writeByte('N');
            tuple(o, c.newRow);
        } else if (c.op == 'U') {
            if (c.oldKind != 0) {
                o.writeByte(c.oldKind);
                tuple(o, c.oldRow);
            }
            o.writeByte('N');
            tuple(o, c.newRow);
        } else {
            o.writeByte(c.oldKind);
            tuple(o, c.oldRow);
        }
        int end = bytes.size();
        o.write(new byte[] {'x', 'y', 'z'});
        return ByteBuffer.wrap(bytes.toByteArray(), 3, end - 3).slice();
    }

    private static void tuple(DataOutputStream o, List<Value> row) throws IOException {
        o.writeShort(row.size());
        for (Value v : row) {
            o.writeByte(v.kind);
            if (v.kind == TupleData.TEXT) {
                o.writeInt(v.bytes.length);
                o.write(v.bytes);
            }
        }
    }

    private static void cstring(DataOutputStream o, String s) throws IOException {
        o.write(s.getBytes(StandardCharsets.US_ASCII));
        o.writeByte(0);
    }
}
