package io.pgbridge.webhook;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import io.pgbridge.Event;
import io.pgbridge.Target;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * The JSON body of one webhook request:
 *
 * <pre>{@code
 * {"id": "...", "source": "notify", "channel": "people", "target": "topic:people", "routing_key": null,
 *  "headers": {}, "payload": {...}, "commit_time": "2026-11-22T03:00:00.123456Z"}
 * }</pre>
 *
 * {@code payload} is embedded as JSON when the event's payload is one valid JSON value, else it is a JSON string; a
 * payload that is not valid UTF-8 is sent as {@code payload_base64} instead. {@code routing_key} and
 * {@code commit_time} are {@code null} when the event has none.
 */
final class WebhookBody {
    private static final JsonFactory JSON = new JsonFactory();

    private WebhookBody() {}

    static byte[] of(Target target, Event e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + e.payloadSize());
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("id", e.id());
            g.writeStringField("source", e.source());
            g.writeStringField("channel", e.channel());
            g.writeStringField("target", target.kind() + ":" + target.name());
            g.writeStringField("routing_key", e.routingKey());
            g.writeObjectFieldStart("headers");
            for (Map.Entry<String, String> h : e.headers().entrySet()) {
                g.writeStringField(h.getKey(), h.getValue());
            }
            g.writeEndObject();
            String text = strictUtf8(e.payload());
            if (text == null) {
                g.writeStringField("payload_base64", Base64.getEncoder().encodeToString(e.payload()));
            } else if (isOneJsonValue(text)) {
                g.writeFieldName("payload");
                g.writeRawValue(text.strip());
            } else {
                g.writeStringField("payload", text);
            }
            g.writeStringField(
                    "commit_time",
                    e.commitTime() == null ? null : e.commitTime().toString());
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toByteArray();
    }

    private static boolean isOneJsonValue(String text) {
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() == null) {
                return false;
            }
            p.skipChildren();
            return p.nextToken() == null;
        } catch (IOException notJson) {
            return false;
        }
    }

    private static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
