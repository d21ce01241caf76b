package io.pgbridge.spring.boot;

import io.pgbridge.PgBridge;

/**
 * Edits the auto-configured {@link PgBridge.Builder} after the {@code pgbridge.*} properties, the Sink and
 * DeadLetterHandler beans and the MeterRegistry were applied, for anything the properties do not cover (routes built
 * in code, a thread factory, a source instance). Every bean of this type runs, in {@code @Order} order, on the
 * thread that creates the bridge bean.
 */
@FunctionalInterface
public interface PgBridgeBuilderCustomizer {
    /** Edits the builder; must not call {@code build()}. */
    void customize(PgBridge.Builder builder);
}
