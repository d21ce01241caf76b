package io.pgbridge.internal.wal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.pgbridge.internal.replication.ValueWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.time.Instant;
import org.postgresql.replication.LogSequenceNumber;

/**
 * wal2json format-version 2 messages to events, each change passed on as wal2json wrote it. The channel is
 * {@code schema.table} (the prefix for a logical decoding message). The transaction's commit LSN comes from the
 * begin message's {@code lsn}, which wal2json writes with {@code include-lsn}; the source always sets that option.
 */
final class Wal2JsonEvents implements ChangeDecoder {
    private static final JsonFactory FACTORY = new JsonFactory();

    private final Emitter emitter;
    private final String heartbeatPrefix;
    private Instant commitTime;

    Wal2JsonEvents(Emitter emitter, String heartbeatPrefix) {
        this.emitter = emitter;
        this.heartbeatPrefix = heartbeatPrefix;
    }

    @Override
    public void decode(ByteBuffer message, long messageLsn) throws InterruptedException, SQLException {
        byte[] bytes = new byte[message.remaining()];
        message.get(bytes);
        Header h = header(bytes);
        switch (h.action) {
            case "B" -> {
                emitter.begin(lsn(h.lsn, "begin"));
                commitTime = h.timestamp == null ? null : parseTime(h.timestamp);
            }
            case "C" -> emitter.commit(lsn(h.nextLsn, "commit"));
            case "M" -> {
                if (heartbeatPrefix.equals(h.prefix)) {
                    return;
                }
                if (Boolean.TRUE.equals(h.transactional) && emitter.inTransaction()) {
                    if (emitter.next() && emitter.wants(h.prefix)) {
                        emitter.emit(h.prefix, bytes, commitTime);
                    }
                } else {
                    emitter.standalone(messageLsn, h.prefix, bytes);
                }
            }
            default -> {
                String channel = h.schema + '.' + h.table;
                if (emitter.next() && emitter.wants(channel)) {
                    emitter.emit(channel, bytes, commitTime);
                }
            }
        }
    }

    private static long lsn(String text, String what) {
        if (text == null) {
            throw new IllegalStateException("wal2json " + what + " message without \"lsn\"/\"nextlsn\"; the source "
                    + "needs format-version 2 with include-lsn");
        }
        return LogSequenceNumber.valueOf(text).asLong();
    }

    /** wal2json's {@code timestamp} (with {@code include-timestamp}), or {@code null} when it cannot be read. */
    private static Instant parseTime(String text) {
        String iso = ValueWriter.timestampTz(text);
        return iso.endsWith("Z") ? Instant.parse(iso) : null;
    }

    private static final class Header {
        String action = "";
        String lsn;
        String nextLsn;
        String schema;
        String table;
        String prefix;
        String timestamp;
        Boolean transactional;
    }

    private static Header header(byte[] bytes) {
        Header h = new Header();
        try (JsonParser p = FACTORY.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalStateException("wal2json message is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (value.isStructStart()) {
                    p.skipChildren();
                    continue;
                }
                switch (name) {
                    case "action" -> h.action = p.getText();
                    case "lsn" -> h.lsn = p.getText();
                    case "nextlsn" -> h.nextLsn = p.getText();
                    case "schema" -> h.schema = p.getText();
                    case "table" -> h.table = p.getText();
                    case "prefix" -> h.prefix = p.getText();
                    case "timestamp" -> h.timestamp = p.getText();
                    case "transactional" -> h.transactional = value == JsonToken.VALUE_TRUE;
                    default -> {}
                }
            }
        } catch (IOException e) {
            // no excerpt of the message: it holds row data
            throw new IllegalStateException("wal2json sent a message that is not valid JSON", e);
        }
        return h;
    }
}
