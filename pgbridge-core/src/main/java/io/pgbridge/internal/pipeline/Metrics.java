package io.pgbridge.internal.pipeline;

import io.pgbridge.BackfillProgress;
import java.util.List;
import java.util.function.Supplier;

/**
 * Where the pipeline reports to a meter registry. {@link #NONE} records nothing and allocates nothing: without a
 * registry the hot path calls only its empty methods, and no Micrometer class is loaded ({@link MicrometerMetrics} is
 * the only class that names one, and it is loaded only when a registry is given).
 */
interface Metrics {
    Metrics NONE = new Metrics() {};

    /** Registers the meters of one route; called once per lane, before it takes any event. */
    default RouteMetrics route(Lane lane) {
        return RouteMetrics.NONE;
    }

    /** Registers the meters of one source; called once, when it attaches. */
    default void source(SourceChannel channel) {}

    /**
     * Registers the meters of the online backfills of one table; called when a backfill of it starts or resumes (again
     * for a later backfill of the same table, which then does nothing). Any thread.
     *
     * @param source the source's name (tag {@code source})
     * @param table {@code schema.table} (tag {@code table})
     * @param progress the table's latest backfill, read when the registry is; {@code null} when there is none
     */
    default void backfill(String source, String table, Supplier<BackfillProgress> progress) {}

    /**
     * Registers the meters of the initial snapshot of one source; called when it starts or resumes (once per source;
     * a later call for it does nothing). Any thread.
     *
     * @param source the source's name (tag {@code source})
     * @param progress the snapshot, read when the registry is; {@code null} when there is none
     */
    default void snapshot(String source, Supplier<BackfillProgress> progress) {}

    /** Removes every meter this registered (the bridge stopped). */
    default void close() {}

    /** What one lane records as it publishes and confirms. */
    interface RouteMetrics {
        RouteMetrics NONE = new RouteMetrics() {};

        /** @return a start time for {@link #published}, or 0 when not measured */
        default long publishing() {
            return 0;
        }

        /** One {@code Sink.publish} call that started at {@code started} returned. */
        default void published(long started) {}

        /** The first {@code count} deliveries of {@code batch} are confirmed by the broker. */
        default void confirmed(List<Delivery> batch, int count) {}
    }
}
