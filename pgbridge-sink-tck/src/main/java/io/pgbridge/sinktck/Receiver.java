package io.pgbridge.sinktck;

import java.util.List;

/**
 * A consumer of one target on the real broker, opened by a {@link SinkCompatibilityKit} subclass: a subscriber to a
 * topic, a reader of a stream or queue. It is ready when {@link SinkCompatibilityKit#receiver} returns it, and
 * collects what arrives on its own threads.
 */
public interface Receiver extends AutoCloseable {

    /** Everything received so far, in arrival order (a copy). Thread-safe. */
    List<Received> received();

    /** Stops receiving and releases the connection. Must not throw. */
    @Override
    void close();
}
