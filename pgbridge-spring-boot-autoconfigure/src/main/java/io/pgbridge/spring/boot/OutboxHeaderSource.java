package io.pgbridge.spring.boot;

import java.util.Map;

/**
 * Headers that {@link OutboxPublisher} adds to every event it sends, such as the current trace context (the
 * auto-configuration provides one from Micrometer Tracing's {@code Tracer} and {@code Propagator} beans: {@code
 * traceparent}, or what the application's propagation writes). A header the caller passes to {@code send} wins over
 * one from here. Called on the sending thread, inside the caller's transaction; must be cheap and thread-safe.
 */
@FunctionalInterface
public interface OutboxHeaderSource {
    /** The headers for an event sent now; empty (never {@code null}) when there are none. */
    Map<String, String> headers();
}
