package io.pgbridge.spi;

import io.pgbridge.Event;
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
     * Connects, checks prerequisites, and starts reading on a thread from {@link SourceContext#threadFactory()}.
     * Returns once the source is reading, so that an event raised after {@code start} returns is seen.
     *
     * @throws io.pgbridge.ConnectionException when PostgreSQL cannot be reached
     * @throws io.pgbridge.SchemaException naming every unmet prerequisite, with its fix
     * @throws InterruptedException when interrupted while connecting
     */
    void start(SourceContext context) throws InterruptedException;

    /**
     * Every event this source published with a {@linkplain Event#position() position} at or below {@code position}
     * has been confirmed by every sink it was routed to (or dead-lettered). Positions only grow. Called on a
     * pipeline thread; must not block. WAL sources report it to the server as the flushed LSN.
     */
    default void acknowledge(long position) {}

    /**
     * One event is done: confirmed by every sink it was routed to, or dead-lettered. Called on a pipeline thread,
     * in no particular order across lanes; must not block.
     */
    default void delivered(Event event) {}

    /**
     * How far this source is behind the database, in bytes, at its last measurement; empty when it does not measure
     * it. The WAL source reports {@code pg_current_wal_lsn() - confirmed_flush_lsn} of its slot: the WAL that
     * PostgreSQL keeps for it. Must not block.
     */
    default OptionalLong lagBytes() {
        return OptionalLong.empty();
    }

    /** Stops intake: after it returns, {@link SourceContext#publish} is not called again. Idempotent. */
    void stop();

    /** Sends a final acknowledgement where the protocol has one and releases connections. Idempotent. */
    void close();
}
