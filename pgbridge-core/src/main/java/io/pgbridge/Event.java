package io.pgbridge;

import io.pgbridge.internal.Ids;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One event read from PostgreSQL, immutable and thread-safe.
 *
 * <ul>
 *   <li>{@link #id()}: a stable idempotency key carried to every broker (AMQP {@code message-id}, MQTT user
 *       property, ...). WAL: commit LSN and ordinal in the transaction; outbox: the row id; NOTIFY: a unique
 *       time-ordered id (NOTIFY itself has no identity; see {@link Builder#timeOrderedId()}).
 *   <li>{@link #source()}: the kind of source that produced it: {@code notify}, {@code wal}, {@code outbox}, ...
 *   <li>{@link #channel()}: the NOTIFY channel, {@code schema.table} for WAL, the outbox channel. Routes match on
 *       it.
 *   <li>{@link #routingKey()}: optional, {@code null} when absent (for NOTIFY, taken from a {@code key|message}
 *       payload).
 *   <li>{@link #payload()}: the bytes, passed through unchanged (UTF-8 JSON or text for the built-in sources).
 *   <li>{@link #headers()}: string headers, never {@code null}, possibly empty.
 *   <li>{@link #position()}: the source's ordered position (for WAL the commit LSN), which the pipeline acknowledges
 *       back to the source once sealed and settled; {@link #NO_POSITION} (the default) for an event the source keeps
 *       track of itself.
 *   <li>{@link #commitTime()}: when the producing transaction committed, or {@code null} where unknown.
 * </ul>
 */
public final class Event {
    /**
     * The position of an event that takes no part in acknowledgement: the source learns of its delivery through
     * {@link io.pgbridge.spi.EventSource#delivered} only (an outbox row it deletes then, a NOTIFY). The builder's
     * default.
     */
    public static final long NO_POSITION = Long.MIN_VALUE;

    /** The id, or {@code null} for a {@link Builder#timeOrderedId() time-ordered id} made of the two halves below. */
    private final String id;

    private final long timeOrderedHigh;
    private final long timeOrderedLow;
    /**
     * The text of a time-ordered id once read, set racily like {@code String.hash}: a thread that sees {@code null}
     * formats the same string again from the final halves.
     */
    private String timeOrderedText;

    private final String source;
    private final String channel;
    private final String routingKey;
    private final byte[] payload;
    private final String contentType;
    private final Map<String, String> headers;
    private final long position;
    private final Instant commitTime;
    private final long estimatedSize;

    private Event(Builder b) {
        this.id = b.timeOrdered ? null : require(b.id, "id");
        this.timeOrderedHigh = b.timeOrderedHigh;
        this.timeOrderedLow = b.timeOrderedLow;
        this.source = require(b.source, "source");
        this.channel = require(b.channel, "channel");
        this.routingKey = b.routingKey;
        this.payload = Objects.requireNonNull(b.payload, "payload");
        this.contentType = b.contentType;
        this.headers = b.headers == null || b.headers.isEmpty()
                ? Map.of()
                : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
        this.position = b.position;
        this.commitTime = b.commitTime;
        this.estimatedSize = computeEstimatedSize();
    }

    private static String require(String value, String name) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("Event " + name + " must not be null or empty");
        }
        return value;
    }

    /** Starts an event; {@code id}, {@code source}, {@code channel} and {@code payload} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The id, never {@code null} or empty. */
    public String id() {
        if (id != null) {
            return id;
        }
        String text = timeOrderedText;
        if (text == null) {
            text = Ids.text(timeOrderedHigh, timeOrderedLow);
            timeOrderedText = text;
        }
        return text;
    }

    public String source() {
        return source;
    }

    public String channel() {
        return channel;
    }

    /** The routing key, or {@code null} when the event has none. */
    public String routingKey() {
        return routingKey;
    }

    /** A copy of the payload bytes. Use {@link #payloadBuffer()} to read without copying. */
    public byte[] payload() {
        return payload.clone();
    }

    /** The payload as a read-only buffer, without copying. */
    public ByteBuffer payloadBuffer() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    /** The payload decoded as UTF-8 (malformed bytes become U+FFFD). */
    public String payloadAsString() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    /** Payload size in bytes. */
    public int payloadSize() {
        return payload.length;
    }

    /** MIME type of the payload, such as {@code application/json}, or {@code null} when the source does not know. */
    public String contentType() {
        return contentType;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public long position() {
        return position;
    }

    /** Commit time of the producing transaction, or {@code null}. */
    public Instant commitTime() {
        return commitTime;
    }

    /** Approximate heap footprint in bytes, used by the pipeline's byte bound. */
    public long estimatedSize() {
        return estimatedSize; // asked twice per event by the pipeline (taking and releasing room)
    }

    private long computeEstimatedSize() {
        int idLength = id == null ? Ids.TEXT_LENGTH : id.length();
        long size = 96L + payload.length + 2L * (idLength + channel.length());
        if (routingKey != null) {
            size += 2L * routingKey.length();
        }
        for (Map.Entry<String, String> h : headers.entrySet()) {
            size += 64L + 2L * (h.getKey().length() + h.getValue().length());
        }
        return size;
    }

    /** A builder that starts from this event, for sources that derive events. */
    public Builder toBuilder() {
        Builder b = new Builder()
                .id(id())
                .source(source)
                .channel(channel)
                .routingKey(routingKey)
                .contentType(contentType)
                .position(position)
                .commitTime(commitTime)
                .headers(headers);
        b.payload = payload;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Event)) {
            return false;
        }
        Event e = (Event) o;
        return position == e.position
                && id().equals(e.id())
                && source.equals(e.source)
                && channel.equals(e.channel)
                && Objects.equals(routingKey, e.routingKey)
                && Arrays.equals(payload, e.payload)
                && Objects.equals(contentType, e.contentType)
                && headers.equals(e.headers)
                && Objects.equals(commitTime, e.commitTime);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id(), source, channel);
    }

    /** Names the event without its payload (payloads may hold personal data and never reach logs). */
    @Override
    public String toString() {
        return "Event{id=" + id() + ", source=" + source + ", channel=" + channel
                + (routingKey == null ? "" : ", routingKey=" + routingKey) + ", payloadBytes=" + payload.length
                + ", position=" + position + '}';
    }

    /** Builds an {@link Event}. Not thread-safe. */
    public static final class Builder {
        private String id;
        private boolean timeOrdered;
        private long timeOrderedHigh;
        private long timeOrderedLow;
        private String source;
        private String channel;
        private String routingKey;
        private byte[] payload;
        private String contentType;
        private Map<String, String> headers; // created by the first header: most events have none
        private long position = NO_POSITION;
        private Instant commitTime;

        private Builder() {}

        /** The id, required unless {@link #timeOrderedId()} gives one. */
        public Builder id(String id) {
            this.id = id;
            this.timeOrdered = false;
            return this;
        }

        /**
         * Gives the event a new unique id in the UUID version 7 layout (RFC 9562), for a source whose events have no
         * identity of their own (NOTIFY): ids made in one JVM sort in the order they were made, and the 62 random
         * bits keep ids of different JVMs apart. Each call makes a new id. Its text ({@link Event#id()}, 36
         * characters) is formatted when first read, on the thread that reads it, so a source thread that makes
         * events for a sink that never reads the id does not pay for it.
         */
        public Builder timeOrderedId() {
            this.id = null;
            this.timeOrdered = true;
            this.timeOrderedHigh = Ids.nextTimeOrderedHigh();
            this.timeOrderedLow = Ids.randomLow();
            return this;
        }

        public Builder source(String source) {
            this.source = source;
            return this;
        }

        public Builder channel(String channel) {
            this.channel = channel;
            return this;
        }

        /** Optional; {@code null} clears it. */
        public Builder routingKey(String routingKey) {
            this.routingKey = routingKey;
            return this;
        }

        /** Copies the bytes. */
        public Builder payload(byte[] payload) {
            this.payload = payload.clone();
            return this;
        }

        /** Takes the array without copying; the caller must not modify it afterwards. */
        public Builder payloadUnsafe(byte[] payload) {
            this.payload = Objects.requireNonNull(payload, "payload");
            return this;
        }

        /** Encodes the text as UTF-8. */
        public Builder payload(String payload) {
            this.payload = payload.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        public Builder contentType(String contentType) {
            this.contentType = contentType;
            return this;
        }

        public Builder header(String name, String value) {
            if (headers == null) {
                headers = new LinkedHashMap<>();
            }
            headers.put(Objects.requireNonNull(name, "header name"), Objects.requireNonNull(value, "header value"));
            return this;
        }

        public Builder headers(Map<String, String> headers) {
            headers.forEach(this::header);
            return this;
        }

        /**
         * The source's ordered position; positions of one source never decrease. Default {@link #NO_POSITION}.
         */
        public Builder position(long position) {
            this.position = position;
            return this;
        }

        public Builder commitTime(Instant commitTime) {
            this.commitTime = commitTime;
            return this;
        }

        /**
         * @throws IllegalArgumentException when source, channel or payload is missing, or the id (neither {@link #id}
         *     nor {@link #timeOrderedId} was given)
         */
        public Event build() {
            if (payload == null) {
                throw new IllegalArgumentException("Event payload must not be null");
            }
            return new Event(this);
        }
    }
}
