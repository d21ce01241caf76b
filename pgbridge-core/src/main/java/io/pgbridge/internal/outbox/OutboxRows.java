package io.pgbridge.internal.outbox;

import io.pgbridge.Event;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Reads outbox rows as events: the select list and the mapping of one row. */
final class OutboxRows {
    /**
     * The columns of {@code <schema>.events e} that make an event. Text payloads (stored as a JSON string) come back
     * unwrapped; headers (an object of strings) as a 2-D text array.
     */
    static final String SELECT_LIST = "e.id, e.channel, e.routing_key, e.content_type,"
            + " case when e.content_type like 'text/%' then e.payload #>> '{}' else e.payload::text end,"
            + " (select array_agg(array[h.key, h.value]) from jsonb_each_text(e.headers) h)";

    private OutboxRows() {}

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
