package io.pgbridge.spi;

import io.pgbridge.DeliveryGuarantee;
import io.pgbridge.Event;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.OptionalLong;

/**
 * Reads events from PostgreSQL and hands them to the pipeline through {@link SourceContext#publish(Event)}.
 *
 * <p>Lifecycle, driven by the bridge: {@link #start} once; then {@link #acknowledge} and {@link #delivered} as
 * sinks confirm; {@link #stop()} to end intake; a last {@link #acknowledge} once in-flight events are drained; then
 * {@link #close()}. A source reads on its own named thread, never does sink I/O on it, and keeps talking to the
 * server (replication status updates, liveness probes) while the pipeline is full.
 */
public interface EventSource {

    /** A short name for logs and for {@link Event#source()}, such as {@code notify}. */
    String name();

    /**
     * What this source promises. It decides what happens to an event a sink refuses for good: an at-least-once
     * source's route halts unless a durable dead-letter destination takes the event; an at-most-once source's event
     * is logged and dropped. Default {@link DeliveryGuarantee#AT_LEAST_ONCE}.
     */
    default DeliveryGuarantee guarantee() {
        return DeliveryGuarantee.AT_LEAST_ONCE;
    }

    /**
     * Connects, checks prerequisites, and starts reading on a thread from {@link SourceContext#threadFactory()}.
     * Returns once the source is reading, so that an event raised after {@code start} returns is seen.
     *
     * @throws io.pgbridge.ConnectionException when PostgreSQL cannot be reached
     * @throws io.pgbridge.SchemaException naming every unmet prerequisite, with its fix
     * @throws InterruptedException when interrupted while connecting
     */
    void start(SourceContext context) throws InterruptedException;

    /**
     * {@code position} was {@linkplain SourceContext#seal sealed}, and every event this source published with a
     * {@linkplain Event#position() position} at or below it is settled: confirmed by every sink it was routed to, or
     * taken by a dead-letter destination (or {@linkplain SourceContext#storedDurably stored durably} by the source).
     * Positions only grow, and only sealed positions are acknowledged. Called on a pipeline thread, possibly under a
     * lock of the pipeline; must not block. WAL sources report it to the server as the flushed LSN.
     */
    default void acknowledge(long position) {}

    /**
     * One event is settled: confirmed by every sink it was routed to, or taken by a dead-letter destination. Called on
     * a pipeline thread, in no particular order across lanes, for every event, with or without a position; must not
     * block.
     */
    default void delivered(Event event) {}

    /**
     * Where this source wants the events it produced that a sink refused for good, such as the outbox's
     * {@code dead_letters} table; {@code null} (the default) for the bridge's handler. Used only when the builder was
     * given no {@link DeadLetterHandler}. Called once, before {@link #start}.
     */
    default DeadLetterHandler deadLetterHandler() {
        return null;
    }

    /**
     * How far this source is behind the database, in bytes, at its last measurement; empty when it does not measure
     * it. The WAL source reports {@code pg_current_wal_lsn() - confirmed_flush_lsn} of its slot: the WAL written
     * since the last position every sink confirmed (PostgreSQL retains at least that much for the slot). Must not
     * block.
     */
    default OptionalLong lagBytes() {
        return OptionalLong.empty();
    }

    /** Stops intake: after it returns, {@link SourceContext#publish} is not called again. Idempotent. */
    void stop();

    /** Sends a final acknowledgement where the protocol has one and releases connections. Idempotent. */
    void close();

    /**
     * What this source needs from PostgreSQL and does not find there, each as one line with its fix (for logical
     * replication: {@code wal_level}, the {@code REPLICATION} attribute, a free slot and WAL sender, the output plugin,
     * the routed tables and their replica identity), checked on {@code connection} without creating or changing
     * anything. Used by {@code pgbridge check}; {@code start} still checks for itself.
     *
     * @param connection an ordinary connection to the source's database, owned by the caller
     * @return empty when everything is in place, or when the source checks nothing
     * @throws SQLException when the catalog cannot be read
     */
    default List<String> prerequisiteProblems(Connection connection) throws SQLException {
        return List.of();
    }
}
