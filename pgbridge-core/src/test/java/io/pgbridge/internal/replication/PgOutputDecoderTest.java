package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgOutputDecoderTest {
    private final List<String> calls = new ArrayList<>();
    private final PgOutputHandler handler = new PgOutputHandler() {
        @Override
        public void begin(long finalLsn, Instant commitTime, long xid) {
            calls.add("begin " + finalLsn + " " + commitTime + " " + xid);
        }

        @Override
        public void commit(long commitLsn, long endLsn, Instant commitTime) {
            calls.add("commit " + commitLsn + " " + endLsn);
        }

        @Override
        public void insert(Relation r, TupleData row) {
            calls.add("insert " + r.qualifiedName() + " " + row.text(0) + " " + (char) row.kind(1));
        }

        @Override
        public void update(Relation r, char oldKind, TupleData oldRow, TupleData newRow) {
            calls.add("update " + oldKind + " " + (char) newRow.kind(1));
        }

        @Override
        public void delete(Relation r, char oldKind, TupleData oldRow) {
            calls.add("delete " + oldKind);
        }

        @Override
        public void truncate(List<Relation> relations, boolean cascade, boolean restartIdentity) {
            calls.add("truncate " + relations.size() + " " + cascade + " " + restartIdentity);
        }

        @Override
        public void message(long lsn, boolean transactional, String prefix, byte[] content) {
            calls.add("message " + lsn + " " + transactional + " " + prefix + " "
                    + new String(content, StandardCharsets.UTF_8));
        }
    };

    @Test
    void decodesEveryMessageType() throws Exception {
        PgOutputDecoder d = new PgOutputDecoder();
        d.decode(
                msg(o -> {
                    o.writeByte('B');
                    o.writeLong(1000);
                    o.writeLong(0); // 2000-01-01
                    o.writeInt(-1); // xid 4294967295
                }),
                handler);
        d.decode(
                msg(o -> {
                    o.writeByte('R');
                    o.writeInt(42);
                    cstring(o, "public");
                    cstring(o, "users");
                    o.writeByte('d');
                    o.writeShort(2);
                    o.writeByte(1);
                    cstring(o, "id");
                    o.writeInt(23);
                    o.writeInt(-1);
                    o.writeByte(0);
                    cstring(o, "big");
                    o.writeInt(25);
                    o.writeInt(-1);
                }),
                handler);
        d.decode(
                msg(o -> {
                    o.writeByte('I');
                    o.writeInt(42);
                    o.writeByte('N');
                    o.writeShort(2);
                    o.writeByte('t');
                    o.writeInt(1);
                    o.writeByte('7');
                    o.writeByte('n');
                }),
                handler);
        d.decode(
                msg(o -> {
                    o.writeByte('U');
                    o.writeInt(42);
                    o.writeByte('K');
                    o.writeShort(2);
                    o.writeByte('t');
                    o.writeInt(1);
                    o.writeByte('7');
                    o.writeByte('n');
                    o.writeByte('N');
                    o.writeShort(2);
                    o.writeByte('t');
                    o.writeInt(1);
                    o.writeByte('8');
                    o.writeByte('u');
                }),
                handler);
        d.decode(
                msg(o -> {
                    o.writeByte('D');
                    o.writeInt(42);
                    o.writeByte('O');
                    o.writeShort(2);
                    o.writeByte('t');
                    o.writeInt(1);
                    o.writeByte('8');
                    o.writeByte('n');
                }),
                handler);
        d.decode(
                msg(o -> {
                    o.writeByte('T');
                    o.writeInt(1);
                    o.writeByte(3);
                    o.writeInt(42);
                }),
                handler);
        d.decode(
                msg(o -> {
                    o.writeByte('M');
                    o.writeByte(1);
                    o.writeLong(999);
                    cstring(o, "app");
                    o.writeInt(2);
                    o.writeBytes("hi");
                }),
                handler);
        d.decode(
                msg(o -> {
                    o.writeByte('C');
                    o.writeByte(0);
                    o.writeLong(1000);
                    o.writeLong(1040);
                    o.writeLong(0);
                }),
                handler);
        assertThat(calls)
                .containsExactly(
                        "begin 1000 2000-01-01T00:00:00Z 4294967295",
                        "insert public.users 7 n",
                        "update K u",
                        "delete O",
                        "truncate 1 true true",
                        "message 999 true app hi",
                        "commit 1000 1040");
    }

    private interface Writer {
        void write(DataOutputStream o) throws IOException;
    }

    private static ByteBuffer msg(Writer w) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        w.write(new DataOutputStream(bytes));
        return ByteBuffer.wrap(bytes.toByteArray());
    }

    private static void cstring(DataOutputStream o, String s) throws IOException {
        o.write(s.getBytes(StandardCharsets.UTF_8));
        o.writeByte(0);
    }
}
