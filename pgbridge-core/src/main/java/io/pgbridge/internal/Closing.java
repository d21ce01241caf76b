package io.pgbridge.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a resource whose close failure should not stop the caller: a connection, a replication stream, a
 * snapshot's reading transaction. Stateless and thread-safe; it closes on the calling thread.
 */
public final class Closing {
    private static final Logger log = LoggerFactory.getLogger(Closing.class);

    private Closing() {}

    /**
     * Closes {@code resource}, logging a checked failure (typically an {@code SQLException}) at debug level as
     * "Closing {@code what} failed". A {@code null} resource is ignored. Unchecked exceptions and errors propagate:
     * they are bugs, not cleanup failures, and the call sites this replaced let them through too.
     *
     * @param resource what to close, or {@code null}
     * @param what the resource for the log line, such as "the LISTEN connection"
     */
    public static void quietly(AutoCloseable resource, String what) {
        if (resource == null) {
            return;
        }
        try {
            resource.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.debug("Closing {} failed", what, e);
        }
    }
}
