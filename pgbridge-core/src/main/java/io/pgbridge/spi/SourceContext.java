package io.pgbridge.spi;

import io.pgbridge.Event;
import java.time.Duration;
import java.util.concurrent.ThreadFactory;

/** What a running {@link EventSource} uses to hand over events. Thread-safe. */
public interface SourceContext {

    /**
     * Hands one event to the pipeline. Positions must not decrease across calls. Blocks while the pipeline's
     * buffer is full (its event and byte bounds), which is how a slow sink slows the source down.
     *
     * @throws InterruptedException when the thread is interrupted while waiting for room
     * @throws IllegalStateException after the bridge stopped
     */
    void publish(Event event) throws InterruptedException;

    /**
     * Like {@link #publish(Event)}, but waits at most {@code timeout} for room in the pipeline. A source whose
     * protocol needs it to keep talking to the server while sinks are slow (replication status updates) publishes in
     * slices and talks between them. The default waits without a bound; the bridge's own context honours the timeout.
     *
     * @return {@code true} when the event was handed over, {@code false} when the pipeline stayed full for
     *     {@code timeout} (the event was not taken; publish it again)
     * @throws InterruptedException when the thread is interrupted while waiting for room
     * @throws IllegalStateException after the bridge stopped
     */
    default boolean publish(Event event, Duration timeout) throws InterruptedException {
        publish(event);
        return true;
    }

    /**
     * Like {@link #publish(Event, Duration)}, but the pipeline may hold the event back from an idle sink until
     * {@link #flush()}, until enough events are held to make a batch, or until it has to wait for room. Meant for a
     * source that reads events in bursts (a WAL backlog): sinks then get batches instead of being woken for every
     * event. Held events count against the pipeline's bounds and are acknowledged only once confirmed, like any
     * other. The source must call {@link #flush()} at the end of each burst (a commit, a read that found nothing)
     * and before it stops. The default publishes at once.
     *
     * @return as {@link #publish(Event, Duration)}
     * @throws InterruptedException when the thread is interrupted while waiting for room
     * @throws IllegalStateException after the bridge stopped
     */
    default boolean publishDeferred(Event event, Duration timeout) throws InterruptedException {
        return publish(event, timeout);
    }

    /** Lets every event held back by {@link #publishDeferred} go on to its sinks. Cheap when none is held. */
    default void flush() {}

    /**
     * Hands over an event the source read but cannot turn into a valid event (a row its decoder refuses), so that
     * it is not lost silently and does not stop the source: its routes treat it as refused for good by their sinks,
     * with {@code reason}, and apply the failure policy (a durable dead-letter destination, or the route halts
     * until an operator acts). {@code event} carries what is known: id, channel, position, and the raw payload.
     * Blocks like {@link #publish(Event, Duration)}.
     *
     * @return whether the event was taken within {@code timeout}
     * @throws InterruptedException when the thread is interrupted while waiting for room
     * @throws IllegalStateException after the bridge stopped
     */
    boolean publishUndecodable(Event event, String reason, Duration timeout) throws InterruptedException;

    /**
     * No event at or below {@code position} will be published any more: the position is closed, and the bridge
     * {@linkplain EventSource#acknowledge acknowledges} it once every event at or below it is settled. Only sealed
     * positions are ever acknowledged. The WAL source seals a transaction once its commit was decoded and its every
     * change handed over; a source whose events each stand alone seals each event's position after publishing it.
     * Sealing the same position again does nothing.
     *
     * @throws IllegalArgumentException when {@code position} is below a position sealed before
     */
    void seal(long position);

    /**
     * Every event at or below {@code position} that this source published is stored durably by the source itself
     * (the outbox records them for replay), so acknowledging no longer waits for their confirmation. The events stay
     * in their routes and are still reported through {@link EventSource#delivered}.
     */
    void storedDurably(long position);

    /**
     * Counts an event the source discarded without handing it over, and why. Only for sources whose guarantee is
     * {@link io.pgbridge.DeliveryGuarantee#AT_MOST_ONCE}: the NOTIFY source drops notifications when the pipeline
     * stays full longer than it may stop reading (PostgreSQL's notification queue must keep draining).
     */
    void dropped(Event event, String reason);

    /**
     * Reports how the source is doing, shown by {@code PgBridge.stats()}: call it whenever that changes.
     *
     * @param reason why, for {@link io.pgbridge.SourceState#RECONNECTING} and {@link io.pgbridge.SourceState#FAILED};
     *     {@code null} otherwise
     */
    void state(io.pgbridge.SourceState state, String reason);

    /**
     * Reports a condition an operator should act on while the source keeps reading (for example partitions that
     * retention keeps because they hold events not delivered yet), shown as {@link io.pgbridge.SourceStats#warning()};
     * call it again with {@code null} once it is over. Any thread.
     *
     * @param warning what is wrong and why, or {@code null}; never a password
     */
    void warning(String warning);

    /** Whether any route takes this channel; a source may skip decoding events that no route wants. */
    boolean isRouted(String channel);

    /** Creates the source's threads; name them {@code pgbridge-<source>-...}. */
    ThreadFactory threadFactory();

    /**
     * Reports that the source failed for good and cannot recover (it already retried what can be retried). The
     * bridge logs it and moves to the failed state.
     */
    void failed(Throwable cause);
}
