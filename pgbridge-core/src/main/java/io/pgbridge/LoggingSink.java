package io.pgbridge;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes each event as one line of JSON to a stream (standard output by default): what the bridge uses when no
 * upstream is configured, so that a first run shows events flowing. Accepts every target kind. Thread-safe; an
 * event counts as confirmed once its line is written and flushed.
 *
 * <p>Line shape: {@code {"time","target","id","source","channel","routing_key","headers","position",
 * "commit_time","payload"}}; {@code routing_key} and {@code commit_time} only when present; {@code payload} is the
 * payload as text when it is valid UTF-8, otherwise {@code payload_base64} holds it.
 */
public final class LoggingSink implements Sink {
    private static final JsonFactory JSON = new JsonFactory();

    private final PrintStream out;

    /** Writes to {@link System#out}. */
    public LoggingSink() {
        this(System.out);
    }

    public LoggingSink(OutputStream out) {
        this.out = out instanceof PrintStream
                ? (PrintStream) out
                : new PrintStream(Objects.requireNonNull(out, "out"), false, StandardCharsets.UTF_8);
    }

    @Override
    public String name() {
        return "logging";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of();
    }

    @Override
    public void start() {}

    @Override
    public PublishResult publish(Target target, List<Event> events) {
        StringBuilder lines = new StringBuilder();
        for (Event e : events) {
            lines.append(toJson(target, e)).append('\n');
        }
        synchronized (out) {
            out.print(lines);
            out.flush();
            if (out.checkError()) {
                return PublishResult.failed(0, "could not write to the output stream", null);
            }
        }
        return PublishResult.confirmed(events.size());
    }

    static String toJson(Target target, Event e) {
        StringWriter w = new StringWriter(128 + e.payloadSize());
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.now().toString());
            g.writeStringField("target", target.toString());
            g.writeStringField("id", e.id());
            g.writeStringField("source", e.source());
            g.writeStringField("channel", e.channel());
            if (e.routingKey() != null) {
                g.writeStringField("routing_key", e.routingKey());
            }
            g.writeObjectFieldStart("headers");
            for (Map.Entry<String, String> h : e.headers().entrySet()) {
                g.writeStringField(h.getKey(), h.getValue());
            }
            g.writeEndObject();
            g.writeNumberField("position", e.position());
            if (e.commitTime() != null) {
                g.writeStringField("commit_time", e.commitTime().toString());
            }
            String text = strictUtf8(e.payloadBuffer());
            if (text != null) {
                g.writeStringField("payload", text);
            } else {
                g.writeStringField("payload_base64", Base64.getEncoder().encodeToString(e.payload()));
            }
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return w.toString();
    }

    private static String strictUtf8(ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException ex) {
            return null;
        }
    }

    /** Does not close the stream: it belongs to the caller. */
    @Override
    public void close() {
        out.flush();
    }

    @Override
    public String toString() {
        return "LoggingSink";
    }
}
