package io.pgbridge.internal.outbox;

import io.pgbridge.Event;
import io.pgbridge.internal.replication.PgOutputDecoder;
import io.pgbridge.internal.replication.PgOutputHandler;
import io.pgbridge.internal.replication.Relation;
import io.pgbridge.internal.replication.TupleData;
import io.pgbridge.internal.wal.ChangeDecoder;
import io.pgbridge.internal.wal.Emitter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * Streaming mode: turns the inserts into {@code <schema>.events} (published through the partition root) into outbox
 * events, in commit order. Everything else in the stream (heartbeats, deletes by partition maintenance) is skipped.
 * One per replication connection; reader thread only.
 */
final class OutboxStreamDecoder implements ChangeDecoder, PgOutputHandler {
    private final PgOutputDecoder decoder = new PgOutputDecoder();
    private final Emitter emitter;
    private final String schema;
    private final String streamId;
    private final OutboxReplay replay;
    private Instant commitTime;

    OutboxStreamDecoder(Emitter emitter, String schema, long streamId, OutboxReplay replay) {
        this.emitter = emitter;
        this.schema = schema;
        this.streamId = Long.toString(streamId);
        this.replay = replay;
    }

    @Override
    public void decode(ByteBuffer message, long messageLsn) throws InterruptedException, SQLException {
        decoder.decode(message, this);
    }

    @Override
    public void begin(long finalLsn, Instant commitTime, long xid) {
        this.commitTime = commitTime;
        replay.begin(xid);
        emitter.begin(finalLsn);
    }

    @Override
    public void commit(long commitLsn, long endLsn, Instant commitTime) throws SQLException {
        replay.commit(commitLsn); // recorded events are durable before the slot may move past them
        emitter.commit(endLsn);
    }

    @Override
    public void betweenTransactions() throws InterruptedException, SQLException {
        replay.betweenTransactions();
    }

    @Override
    public void insert(Relation r, TupleData row) throws InterruptedException, SQLException {
        if (!r.schema().equals(schema) || !r.table().equals("events")) {
            return;
        }
        // Every insert counts, whatever its stream: the ordinal must be the same when a transaction is read again.
        boolean fresh = emitter.next();
        Columns c = new Columns(r, row);
        if (!fresh || !streamId.equals(c.text("stream_id"))) {
            return;
        }
        String channel = c.text("channel");
        if (!emitter.wants(channel) || replay.recorded(emitter.position())) {
            return; // not routed, or recorded during an outage and replayed from the table
        }
        long id = Long.parseLong(c.text("id"));
        if (replay.failedOver()) {
            replay.record(emitter.position(), emitter.ordinal(), id);
            return;
        }
        String contentType = c.text("content_type");
        String payload = c.text("payload");
        Event.Builder event = Event.builder()
                .id(Long.toString(id))
                .channel(channel)
                .routingKey(c.text("routing_key"))
                .contentType(contentType)
                .commitTime(commitTime);
        String undecodable = null;
        try {
            event.payloadUnsafe(OutboxRows.payload(contentType, payload).getBytes(StandardCharsets.UTF_8));
            String headers = c.text("headers");
            if (headers != null) {
                OutboxRows.addHeaders(headers, event);
            }
        } catch (IllegalArgumentException e) {
            // a row that breaks OutboxRows' definition (a table from before schema V4): the failure policy decides,
            // the stream goes on
            undecodable = "outbox event " + id + " on channel " + channel + ": " + e.getMessage();
            event.payloadUnsafe(payload.getBytes(StandardCharsets.UTF_8));
        }
        replay.expect(id);
        if (!emitter.emit(event, replay::outage, undecodable)) {
            replay.notHanded(id);
            replay.failOver();
            replay.record(emitter.position(), emitter.ordinal(), id);
            return;
        }
        replay.handed(emitter.position(), emitter.ordinal(), id);
    }

    @Override
    public void update(Relation r, char oldKind, TupleData oldRow, TupleData newRow) {}

    @Override
    public void delete(Relation r, char oldKind, TupleData oldRow) {}

    @Override
    public void truncate(List<Relation> relations, boolean cascade, boolean restartIdentity) {}

    @Override
    public void message(long lsn, boolean transactional, String prefix, byte[] content) {}

    /** The text values of one row by column name. */
    private static final class Columns {
        private final Relation relation;
        private final TupleData row;

        Columns(Relation relation, TupleData row) {
            this.relation = relation;
            this.row = row;
        }

        String text(String column) {
            List<Relation.Column> columns = relation.columns();
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).name().equals(column)) {
                    return row.text(i);
                }
            }
            return null;
        }
    }
}
