package io.pgbridge;

import java.time.Instant;
import java.util.Objects;

/**
 * One route's deliveries at one moment, from {@link PgBridge.Stats#routes()}. Immutable.
 *
 * @param route the route
 * @param state delivering, retrying or halted
 * @param since when the current failure began (the first failed attempt on the oldest event), {@code null} while
 *     {@link RouteState#DELIVERING}
 * @param attempts failed attempts on the route's oldest event so far, 0 while delivering
 * @param lastError the last failure's reason (a broker's error, a sink's exception), {@code null} when none since the
 *     route last delivered; never contains a password
 * @param delivered events the sink confirmed on this route since the start
 * @param deadLettered events of this route handed to a dead-letter destination since the start
 * @param queued events waiting on this route (including the one being retried)
 */
public record RouteStats(
        Route route,
        RouteState state,
        Instant since,
        int attempts,
        String lastError,
        long delivered,
        long deadLettered,
        int queued) {
    public RouteStats {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(state, "state");
    }
}
