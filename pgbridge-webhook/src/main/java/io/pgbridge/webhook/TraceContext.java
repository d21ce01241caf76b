package io.pgbridge.webhook;

import io.pgbridge.Event;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The W3C Trace Context (https://www.w3.org/TR/trace-context/) an event carries among its headers, as the HTTP headers
 * {@code traceparent} and {@code tracestate} of the request that delivers it, so that a trace continues from the
 * writing transaction to the endpoint. Follows the recommendation's rules for a receiver: a {@code traceparent} that
 * is malformed is not passed on, and neither is its {@code tracestate} then; a {@code tracestate} that is not a
 * valid header value is left out.
 */
final class TraceContext {
    static final String TRACEPARENT = "traceparent";
    static final String TRACESTATE = "tracestate";
    /**
     * Section 3.2.2: version, trace-id, parent-id, flags in lower-case hex; version ff is invalid; a later version may
     * append fields after a '-'; an all-zero trace-id or parent-id is invalid.
     */
    private static final Pattern VALID_TRACEPARENT = Pattern.compile(
            "(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(-[\\x21-\\x7e]*)?");
    /** Section 3.3: at most 32 list members of at most 256 characters; printable ASCII, so a valid header value. */
    private static final Pattern VALID_TRACESTATE = Pattern.compile("[\\x20-\\x7e]{0,8224}");

    private TraceContext() {}

    /** The trace context headers to send with {@code event}: empty, or {@code traceparent} and maybe {@code tracestate}. */
    static Map<String, String> headers(Event event) {
        String parent = event.headers().get(TRACEPARENT);
        if (parent == null
                || !VALID_TRACEPARENT.matcher(parent).matches()
                || (parent.startsWith("00-") && parent.length() != 55)) {
            return Map.of();
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(TRACEPARENT, parent);
        String state = event.headers().get(TRACESTATE);
        if (state != null && VALID_TRACESTATE.matcher(state).matches() && !state.isBlank()) {
            headers.put(TRACESTATE, state);
        }
        return headers;
    }
}
