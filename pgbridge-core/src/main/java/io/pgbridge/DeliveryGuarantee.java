package io.pgbridge;

/** What a source promises about its events, which decides what happens to an event a sink refuses for good. */
public enum DeliveryGuarantee {
    /**
     * An event may be lost, never duplicated by the source: plain NOTIFY, which PostgreSQL does not keep for a listener
     * that is not connected (NOTIFY reference page). An event refused for good is logged and dropped unless a
     * dead-letter destination is configured; events beyond the pipeline's bounds are dropped and counted.
     */
    AT_MOST_ONCE,
    /**
     * Every event is delivered at least once, none is lost: WAL and outbox. An event refused for good halts its route
     * until an operator acts, unless a durable dead-letter destination takes it.
     */
    AT_LEAST_ONCE
}
