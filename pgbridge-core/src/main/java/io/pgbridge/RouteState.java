package io.pgbridge;

/** How a route's deliveries are going, as {@link PgBridge#stats()} shows it. */
public enum RouteState {
    /** Its events reach the sink (or it has none). */
    DELIVERING,
    /**
     * Its sink failed on the route's oldest event; that event is retried alone with growing backoff, and nothing
     * behind it moves until the sink takes it.
     */
    RETRYING,
    /**
     * Its sink refused the route's oldest event for good (or the source could not decode it) and no dead-letter
     * destination takes it: the route stands still, retrying that event at the longest backoff, until an operator
     * acts (configures a dead-letter destination, fixes the broker, or the event's target).
     */
    HALTED
}
