package io.pgbridge.spring.boot;

import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The current trace context as outbox headers: what the application's {@link Propagator} writes for the {@link
 * Tracer}'s current context (W3C {@code traceparent} with the default propagation); empty outside a span, or while
 * the application has no single {@code Tracer} and {@code Propagator} bean (looked up at each call, so the order of
 * auto-configurations does not matter).
 */
final class TracingOutboxHeaders implements OutboxHeaderSource {
    private final ObjectProvider<Tracer> tracers;
    private final ObjectProvider<Propagator> propagators;

    TracingOutboxHeaders(ObjectProvider<Tracer> tracers, ObjectProvider<Propagator> propagators) {
        this.tracers = Objects.requireNonNull(tracers, "tracers");
        this.propagators = Objects.requireNonNull(propagators, "propagators");
    }

    @Override
    public Map<String, String> headers() {
        Tracer tracer = tracers.getIfUnique();
        Propagator propagator = propagators.getIfUnique();
        if (tracer == null || propagator == null) {
            return Map.of();
        }
        TraceContext context = tracer.currentTraceContext().context();
        if (context == null) {
            return Map.of();
        }
        Map<String, String> headers = new LinkedHashMap<>();
        propagator.inject(context, headers, Map::put);
        return headers;
    }
}
