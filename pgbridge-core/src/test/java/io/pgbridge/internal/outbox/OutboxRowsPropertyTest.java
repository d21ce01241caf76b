package io.pgbridge.internal.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** OutboxRows' one definition of a valid row, as the stream decodes it. */
class OutboxRowsPropertyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Property
    void aTextPayloadIsTheTextOfItsJsonString(@ForAll String text, @ForAll("textTypes") String contentType)
            throws JsonProcessingException {
        assertThat(OutboxRows.payload(contentType, JSON.writeValueAsString(text)))
                .as("payload of a %s row", contentType)
                .isEqualTo(text);
    }

    @Property
    void anyOtherPayloadIsItsJsonAsStored(@ForAll("json") String json, @ForAll("otherTypes") String contentType) {
        assertThat(OutboxRows.payload(contentType, json))
                .as("payload of a %s row", contentType)
                .isEqualTo(json);
    }

    @Property
    void aTextTypeWithAJsonValueOtherThanAStringBreaksTheRule(
            @ForAll("nonStringJson") String json, @ForAll("textTypes") String contentType) {
        assertThatThrownBy(() -> OutboxRows.payload(contentType, json))
                .as("payload %s of a %s row", json, contentType)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(OutboxRows.TEXT_PAYLOAD_CONSTRAINT);
    }

    @Provide
    Arbitrary<String> textTypes() {
        return Arbitraries.of("text/plain", "text/plain; charset=utf-8", "text/csv", "text/");
    }

    @Provide
    Arbitrary<String> otherTypes() {
        return Arbitraries.of("application/json", "application/xml", "Text/plain", "TEXT/PLAIN", "texts/x", "");
    }

    @Provide
    Arbitrary<String> nonStringJson() {
        return Arbitraries.of("5", "-1.5e3", "true", "false", "null", "{}", "{\"a\": \"b\"}", "[]", "[\"a\"]");
    }

    @Provide
    Arbitrary<String> json() {
        return Arbitraries.oneOf(nonStringJson(), Arbitraries.strings().map(s -> {
            try {
                return JSON.writeValueAsString(s);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }));
    }
}
