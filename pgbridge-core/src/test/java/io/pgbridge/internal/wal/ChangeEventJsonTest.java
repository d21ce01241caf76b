package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.internal.replication.PgOutputDecoder;
import io.pgbridge.internal.replication.PgOutputHandler;
import io.pgbridge.internal.replication.Relation;
import io.pgbridge.internal.replication.TupleData;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reused generator: every event is a complete document of its own, whatever was written before it. */
class ChangeEventJsonTest {
    private final ChangeEventJson json = new ChangeEventJson();
    private final ChangeEventJson.Txn txn =
            new ChangeEventJson.Txn(0x1_0000_00A0L, 7, Instant.parse("2026-11-22T03:04:05.123456Z"));
    private final List<String> events = new ArrayList<>();

    @Test
    void consecutiveEventsAreSeparateDocuments() throws Exception {
        insert("1", "{\"a\": [1, 2]}");
        insert("2", "\"x\"");
        assertThat(events)
                .as("two inserts, each a whole object (with its key) with no separator or leftover from the other")
                .containsExactly(
                        "{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"t\",\"lsn\":\"1/A0\",\"xid\":7,"
                                + "\"commitTime\":\"2026-11-22T03:04:05.123456Z\",\"new\":{\"id\":1,\"doc\":{\"a\": [1, 2]}},\"key\":{\"id\":1}}",
                        "{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"t\",\"lsn\":\"1/A0\",\"xid\":7,"
                                + "\"commitTime\":\"2026-11-22T03:04:05.123456Z\",\"new\":{\"id\":2,\"doc\":\"x\"},\"key\":{\"id\":2}}");
    }

    @Test
    void eventsAfterAMessageAreUnaffected() throws Exception {
        String message =
                new String(json.message(5, null, "p", "hi".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
        insert("3", "null");
        assertThat(message)
                .as("non-transactional message")
                .isEqualTo("{\"op\":\"message\",\"lsn\":\"0/5\",\"prefix\":\"p\",\"transactional\":false,"
                        + "\"content\":\"hi\"}");
        assertThat(events.get(0))
                .as("the insert after it")
                .startsWith("{\"op\":\"insert\"")
                .endsWith("\"doc\":null},\"key\":{\"id\":3}}");
    }

    /** Decodes a Relation (id int8, doc jsonb) and an Insert of (id, doc) and writes the insert's event. */
    private void insert(String id, String doc) throws Exception {
        PgOutputDecoder decoder = new PgOutputDecoder();
        PgOutputHandler handler = new PgOutputHandler() {
            @Override
            public void begin(long finalLsn, Instant commitTime, long xid) {}

            @Override
            public void commit(long commitLsn, long endLsn, Instant commitTime) {}

            @Override
            public void insert(Relation r, TupleData newRow) {
                events.add(new String(json.insert(r, txn, newRow), StandardCharsets.UTF_8));
            }

            @Override
            public void update(Relation r, char oldKind, TupleData oldRow, TupleData newRow) {}

            @Override
            public void delete(Relation r, char oldKind, TupleData oldRow) {}

            @Override
            public void truncate(List<Relation> relations, boolean cascade, boolean restartIdentity) {}

            @Override
            public void message(long lsn, boolean transactional, String prefix, byte[] content) {}
        };
        decoder.decode(
                message(o -> {
                    o.writeByte('R');
                    o.writeInt(42);
                    cstring(o, "public");
                    cstring(o, "t");
                    o.writeByte('d');
                    o.writeShort(2);
                    o.writeByte(1);
                    cstring(o, "id");
                    o.writeInt(20); // int8
                    o.writeInt(-1);
                    o.writeByte(0);
                    cstring(o, "doc");
                    o.writeInt(3802); // jsonb
                    o.writeInt(-1);
                }),
                handler);
        decoder.decode(
                message(o -> {
                    o.writeByte('I');
                    o.writeInt(42);
                    o.writeByte('N');
                    o.writeShort(2);
                    text(o, id);
                    text(o, doc);
                }),
                handler);
    }

    private interface Writer {
        void write(DataOutputStream o) throws IOException;
    }

    private static ByteBuffer message(Writer w) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        w.write(new DataOutputStream(bytes));
        return ByteBuffer.wrap(bytes.toByteArray());
    }

    private static void cstring(DataOutputStream o, String s) throws IOException {
        o.write(s.getBytes(StandardCharsets.UTF_8));
        o.writeByte(0);
    }

    private static void text(DataOutputStream o, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        o.writeByte('t');
        o.writeInt(b.length);
        o.write(b);
    }
}
