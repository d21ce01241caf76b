package io.pgbridge.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TraceContextTest {
    private static final String PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private static Event event(Map<String, String> headers) {
        return Event.builder()
                .id("1")
                .source("outbox")
                .channel("c")
                .payload("{}")
                .headers(headers)
                .build();
    }

    @Test
    void carriesTraceparentAndTracestate() {
        assertThat(TraceContext.headers(
                        event(Map.of("traceparent", PARENT, "tracestate", "congo=t61rcWkgMzE", "x", "y"))))
                .containsExactly(Map.entry("traceparent", PARENT), Map.entry("tracestate", "congo=t61rcWkgMzE"));
        assertThat(TraceContext.headers(event(Map.of("traceparent", PARENT)))).containsOnlyKeys("traceparent");
        assertThat(TraceContext.headers(event(Map.of("traceparent", "01-" + PARENT.substring(3) + "-later-field"))))
                .as("a later version may append fields")
                .containsOnlyKeys("traceparent");
    }

    @Test
    void withoutTraceparentNothing() {
        assertThat(TraceContext.headers(event(Map.of("tracestate", "congo=t61rcWkgMzE"))))
                .isEmpty();
        assertThat(TraceContext.headers(event(Map.of()))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace-id
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent-id
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // version 00 has no more fields
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // short trace-id
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx: y" // header injection
            })
    void aMalformedTraceparentIsNotPassedOnNorItsTracestate(String parent) {
        assertThat(TraceContext.headers(event(Map.of("traceparent", parent, "tracestate", "congo=t61rcWkgMzE"))))
                .isEmpty();
    }

    @Test
    void aTracestateThatIsNoHeaderValueIsLeftOut() {
        assertThat(TraceContext.headers(event(Map.of("traceparent", PARENT, "tracestate", "a=b\nc"))))
                .containsOnlyKeys("traceparent");
    }
}
