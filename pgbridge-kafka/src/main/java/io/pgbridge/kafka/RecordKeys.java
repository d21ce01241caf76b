package io.pgbridge.kafka;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.pgbridge.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The Kafka record key of an event, which picks its partition: records with one key keep their order.
 *
 * <ul>
 *   <li>A WAL change ({@link Event#source()} {@code wal}): the change event's {@code key} object, the row's replica
 *       identity columns as compact JSON ({@code {"id":1}}), the same for every insert, update and delete of the row
 *       (see docs/wal.md). A change without one (a table with {@code REPLICA IDENTITY FULL} or {@code NOTHING}, a
 *       truncate, a logical message) is keyed by its channel, {@code schema.table}: the table's changes then keep
 *       their order in one partition.
 *   <li>Any other event: its routing key ({@code NOTIFY ch, 'key|message'}, the outbox's {@code routing_key}) as
 *       UTF-8, or no key ({@code null}) when it has none, which lets the producer spread records over partitions.
 * </ul>
 *
 * Thread-safe and stateless.
 */
final class RecordKeys {
    static final String WAL_SOURCE = "wal";
    private static final JsonFactory JSON = new JsonFactory();

    private RecordKeys() {}

    /** The record key, or {@code null} for none. */
    static byte[] key(Event event) {
        if (event.source().equals(WAL_SOURCE)) {
            byte[] key = walKey(event.payload());
            return key != null ? key : utf8(event.channel());
        }
        return event.routingKey() == null ? null : utf8(event.routingKey());
    }

    /**
     * The bytes of the top-level {@code key} object of a WAL change event, exactly as written (the writer is
     * compact and writes a row's columns in table order, so equal keys are equal bytes), or {@code null} when the
     * payload has none or is not a JSON object.
     */
    static byte[] walKey(byte[] payload) {
        try (JsonParser p = JSON.createParser(payload)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                boolean isKey = p.currentName().equals("key");
                JsonToken value = p.nextToken();
                if (isKey && value == JsonToken.START_OBJECT) {
                    int start = Math.toIntExact(p.currentTokenLocation().getByteOffset());
                    p.skipChildren();
                    int end = Math.toIntExact(p.currentLocation().getByteOffset());
                    return Arrays.copyOfRange(payload, start, end);
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException e) {
            return null; // not JSON: no key
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
