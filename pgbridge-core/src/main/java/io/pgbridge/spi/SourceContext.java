package io.pgbridge.spi;

import io.pgbridge.Event;
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
