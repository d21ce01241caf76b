package io.pgbridge.chaos;

import java.util.Map;

/** The sink of a scenario as the suite sees it: where the bridge sends, how the suite consumes, the sink's faults. */
interface SinkSide extends AutoCloseable {
    /** The bridge's {@code PGBRIDGE_UPSTREAM_URI} (the suite puts a relay in front of its host and port). */
    String uri();

    /** The route's target for {@code PGBRIDGE_BRIDGE_CHANNELS}, such as {@code exchange:name}. */
    String target(int route);

    /** Sink settings for the bridge, {@code PGBRIDGE_*}. */
    Map<String, String> environment();

    /** Starts consuming every route into {@code deliveries}. */
    void consume(Deliveries deliveries) throws Exception;

    /**
     * Messages the broker acknowledged to the bridge and then dropped itself since {@link #consume} (a queue limit of
     * its own), as the broker reports them; 0 when it reports none or cannot tell. A loss the checker finds is the
     * bridge's only while this is 0.
     */
    default long brokerDropped() {
        return 0;
    }

    /** The sink refuses every message until {@link #accept()}. */
    default void refuse() throws Exception {
        throw new UnsupportedOperationException("this sink has no refusal fault");
    }

    default void accept() throws Exception {
        throw new UnsupportedOperationException("this sink has no refusal fault");
    }

    /** One route cannot be delivered until {@link #route(int)}. */
    default void unroute(int route) throws Exception {
        throw new UnsupportedOperationException("this sink has no unroutable fault");
    }

    default void route(int route) throws Exception {
        throw new UnsupportedOperationException("this sink has no unroutable fault");
    }

    /** The sink's service is stopped until {@link #start()}. */
    default void stop() throws Exception {
        throw new UnsupportedOperationException("this sink cannot be stopped");
    }

    default void start() throws Exception {
        throw new UnsupportedOperationException("this sink cannot be stopped");
    }
}
