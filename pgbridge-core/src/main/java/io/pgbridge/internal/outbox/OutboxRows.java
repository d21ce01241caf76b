package io.pgbridge.internal.outbox;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.pgbridge.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Reads outbox rows as events, in both modes: the select list and the mapping of one row for table reads (polling,
 * the streaming backlog and replay), and the decoding of a row's payload and headers for the stream.
 *
 * <p>One definition of a valid row, kept by the table's check constraints {@value #TEXT_PAYLOAD_CONSTRAINT} and
 * {@code events_headers_strings} (pgbridge-sql, {@code V4__expression_guard.sql} and {@code V1__outbox_schema.sql}): a
 * row whose content type starts with {@value #TEXT_CONTENT_TYPE} holds its text as a JSON string, and the event's
 * payload is that text; any other row's payload is its JSON as stored. Headers are a JSON object of strings. Both
 * modes follow it, so the same rows give the same events.
 */
final class OutboxRows {
    /** The content-type prefix of a text payload. */
    static final String TEXT_CONTENT_TYPE = "text/";
    /** The events table's constraint that a text payload is a JSON string. */
    static final String TEXT_PAYLOAD_CONSTRAINT = "events_text_payload_is_string";

    private static final JsonFactory JSON = new JsonFactory();

    /**
     * The columns of {@code <schema>.events e} that make an event. Text payloads (stored as a JSON string) come back
     * unwrapped; headers (an object of strings) as a 2-D text array.
     */
    static final String SELECT_LIST = "e.id, e.channel, e.routing_key, e.content_type,"
            + " case when e.content_type like '" + TEXT_CONTENT_TYPE + "%' then e.payload #>> '{}'"
            + " else e.payload::text end,"
            + " (select array_agg(array[h.key, h.value]) from jsonb_each_text(e.headers) h)";
    /** How many columns {@link #SELECT_LIST} has; a statement's own columns after it start at {@code COLUMNS + 1}. */
    static final int COLUMNS = 6;

    private OutboxRows() {}

    /**
     * The payload of an event from its row's content type and payload column (as JSON text), by the rule above.
     *
     * @throws IllegalArgumentException when the row breaks it (a text content type with a payload that is not a JSON
     *     string: only a table without constraint {@value #TEXT_PAYLOAD_CONSTRAINT}, before schema V4, holds one)
     */
    static String payload(String contentType, String payloadJson) {
        if (!contentType.startsWith(TEXT_CONTENT_TYPE)) {
            return payloadJson;
        }
        try (JsonParser p = JSON.createParser(payloadJson)) {
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw new IllegalArgumentException("its payload has a text content type but is not a JSON string"
                        + " (constraint " + TEXT_PAYLOAD_CONSTRAINT + ")");
            }
            return p.getText();
        } catch (IOException e) {
            throw new IllegalArgumentException("its payload is not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Adds the headers column (a JSON object of strings, constraint {@code events_headers_strings}) to an event.
     *
     * @throws IllegalArgumentException when it is not one
     */
    static void addHeaders(String json, Event.Builder event) {
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("its headers are not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_STRING) {
                    throw new IllegalArgumentException("its header " + name + " is not a string");
                }
                event.header(name, p.getText());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("its headers are not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The event of the current row of a result of {@link #SELECT_LIST}. It has no position: the row is what keeps it,
     * and the source acts on its delivery through {@code delivered}.
     */
    static Event toEvent(ResultSet rs) throws SQLException {
        Event.Builder b = Event.builder()
                .id(Long.toString(rs.getLong(1)))
                .source("outbox")
                .channel(rs.getString(2))
                .routingKey(rs.getString(3))
                .contentType(rs.getString(4))
                .payloadUnsafe(rs.getString(5).getBytes(StandardCharsets.UTF_8));
        Array headers = rs.getArray(6);
        if (headers != null) {
            for (String[] pair : (String[][]) headers.getArray()) {
                b.header(pair[0], pair[1]);
            }
        }
        return b.build();
    }
}
