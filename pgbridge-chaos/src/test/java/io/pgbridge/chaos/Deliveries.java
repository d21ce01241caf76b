package io.pgbridge.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Every message the consumers received, per route, in arrival order: the row id, the event id (message id) and when
 * it arrived. Thread-safe; a consumer records a message before it acknowledges it to the broker.
 */
final class Deliveries {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param redelivered the broker marked it as delivered before to a consumer (a consumer-side duplicate)
     */
    record Delivery(long id, String eventId, long atMillis, boolean redelivered) {}

    private final List<List<Delivery>> routes = new ArrayList<>();
    private final BitSet seen = new BitSet();

    Deliveries(int routes) {
        for (int r = 0; r < routes; r++) {
            this.routes.add(new ArrayList<>());
        }
    }

    /** Records a message of row {@code id} (see {@link #rowId}). */
    void record(int route, long id, String eventId, boolean redelivered) {
        Delivery d = new Delivery(id, eventId, System.currentTimeMillis(), redelivered);
        List<Delivery> list = routes.get(route);
        synchronized (list) {
            list.add(d);
        }
        synchronized (seen) {
            seen.set(Math.toIntExact(id));
        }
    }

    /**
     * The row id of a message: a WAL change event ({@code new.id}), a webhook body ({@code payload.id}) or a payload
     * with the id under {@code id}.
     */
    static long rowId(byte[] body) {
        try {
            JsonNode message = JSON.readTree(body);
            JsonNode row =
                    message.has("new") ? message.get("new") : message.has("payload") ? message.get("payload") : message;
            return row.get("id").asLong();
        } catch (IOException e) {
            throw new UncheckedIOException("not a message of the producer: " + new String(body), e);
        }
    }

    /** How many distinct row ids arrived. */
    int distinct() {
        synchronized (seen) {
            return seen.cardinality();
        }
    }

    /** A copy of the route's deliveries so far, in arrival order. */
    List<Delivery> of(int route) {
        List<Delivery> list = routes.get(route);
        synchronized (list) {
            return new ArrayList<>(list);
        }
    }

    int routes() {
        return routes.size();
    }

    long total() {
        long n = 0;
        for (List<Delivery> list : routes) {
            synchronized (list) {
                n += list.size();
            }
        }
        return n;
    }
}
