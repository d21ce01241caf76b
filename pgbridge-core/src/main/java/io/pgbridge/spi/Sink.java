package io.pgbridge.spi;

import io.pgbridge.Event;
import io.pgbridge.Target;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Publishes events to one broker or service and reports which of them the broker confirmed.
 *
 * <p>Lifecycle: {@link #start()} once, then any number of {@link #publishAsync} (or {@link #publish}) calls, then
 * {@link #close()}. The pipeline calls them from several delivery threads at once, but never concurrently for the same
 * ordered lane, so implementations must be thread-safe; calls for one lane come one after another, each after the
 * previous one returned. The pipeline calls {@link #publishAsync}, which by default calls {@link #publish} and so
 * returns only once the batch is decided: a sink that implements only {@code publish} has one batch in flight per
 * lane.
 *
 * <p>Confirmation is the whole contract: a publish counts as delivered only when the broker has confirmed it (AMQP
 * publisher confirm, MQTT QoS 1/2 acknowledgement, a Redis reply, an HTTP 2xx). A sink never reports an event as
 * confirmed that the broker did not confirm, and never swallows a failure.
 */
public interface Sink extends AutoCloseable {

    /** A short name for logs and errors, such as {@code amqp}. */
    String name();

    /**
     * The target kinds this sink understands, such as {@code exchange} and {@code queue}; an empty set accepts any
     * kind. {@code build()} rejects routes to other kinds, listing these.
     */
    Set<String> targetKinds();

    /**
     * Checks a target's name against the broker's rules (an MQTT topic with wildcards, a name too long, ...), at
     * configuration time.
     *
     * @return one line per problem, empty when the target is fine
     */
    default List<String> validateTarget(Target target) {
        return List.of();
    }

    /** Whether a target exists on the broker, as {@link #targetExists(Target)} found it. */
    enum Existence {
        EXISTS,
        MISSING,
        /** The sink cannot tell (the broker creates targets on first use, or the sink does not implement the check). */
        CANNOT_CHECK
    }

    /**
     * Asks the broker whether a target exists, without creating or changing it (RabbitMQ: a passive declare of the
     * exchange or queue). Used by {@code pgbridge check} to find, before any event flows, a route whose target would
     * refuse every delivery. Called after {@link #start()}, from one thread at a time.
     *
     * @return {@link Existence#CANNOT_CHECK} unless the sink implements the check
     * @throws io.pgbridge.ConnectionException when the broker cannot be asked (connection lost, access refused)
     * @throws InterruptedException when interrupted while waiting for the broker
     */
    default Existence targetExists(Target target) throws InterruptedException {
        return Existence.CANNOT_CHECK;
    }

    /**
     * Connects. Called once, before the first {@link #publish}.
     *
     * @throws io.pgbridge.ConnectionException when the broker cannot be reached or refuses the credentials; the
     *     message names the endpoint, never the password
     */
    void start();

    /**
     * Publishes {@code events}, in order, to {@code target}, and blocks until the broker confirmed each of them or
     * one of them failed.
     *
     * @param target where to publish, one of the routes' targets
     * @param events at least one event; the sink must not modify the list
     * @return how many leading events were confirmed, and why the next one failed if any did
     * @throws InterruptedException when the calling thread is interrupted while waiting for the broker; events not
     *     confirmed by then are retried
     */
    PublishResult publish(Target target, List<Event> events) throws InterruptedException;

    /**
     * Starts publishing {@code events}, in order, to {@code target}, and returns a stage that completes with what
     * {@link #publish} would have returned, so that a lane can keep several batches in flight (pipelining). The
     * pipeline may call this again for the same lane before earlier stages completed; the sink must then put each
     * call's events on the wire after those of the earlier calls with the same target (RabbitMQ: the same channel),
     * so that a route's events reach the broker in order. Stages may complete in any order; the pipeline settles
     * them in call order, and after a failure it waits for every stage of the lane before it publishes again.
     *
     * <p>The default calls {@link #publish} and returns a completed stage: one batch in flight per lane.
     *
     * @param target where to publish, one of the routes' targets
     * @param events at least one event; the sink must not modify the list
     * @return a stage completing normally with the result (a stage completing exceptionally counts as a failure that
     *     confirmed nothing); never {@code null}
     * @throws InterruptedException when the calling thread is interrupted; events not confirmed by then are retried
     */
    default CompletionStage<PublishResult> publishAsync(Target target, List<Event> events) throws InterruptedException {
        return CompletableFuture.completedFuture(publish(target, events));
    }

    /**
     * Releases connections. Called once, after the last {@link #publish} returned. Must not throw; failures are
     * logged.
     */
    @Override
    void close();
}
