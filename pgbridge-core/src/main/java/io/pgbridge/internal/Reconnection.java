package io.pgbridge.internal;

import io.pgbridge.internal.pipeline.Backoff;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens a connection again after it was lost: attempt after attempt, with backoff, each failure logged. */
public final class Reconnection {
    private static final Logger log = LoggerFactory.getLogger(Reconnection.class);

    /** One attempt to connect. */
    @FunctionalInterface
    public interface Attempt<T> {
        T open() throws Exception;
    }

    private Reconnection() {}

    /**
     * Tries {@code attempt} until it succeeds, waiting {@code backoff} between failures.
     *
     * @param what the connection, for log lines ("NOTIFY connection to jdbc:postgresql://...")
     * @param keepTrying checked before each attempt; when it turns false the retries end
     * @return what the successful attempt opened, or {@code null} when {@code keepTrying} turned false or the thread
     *     was interrupted (its interrupt flag is then set again)
     */
    public static <T> T retry(String what, Backoff backoff, BooleanSupplier keepTrying, Attempt<T> attempt) {
        for (int n = 1; keepTrying.getAsBoolean(); n++) {
            try {
                T opened = attempt.open();
                log.info("{} re-established after {} attempt(s)", what, n);
                return opened;
            } catch (Exception e) {
                long delay = backoff.delayMillis(n);
                log.warn("Reconnect attempt {} of {} failed ({}); next in {} ms", n, what, e.getMessage(), delay);
                try {
                    Thread.sleep(delay); // backoff between attempts, not a wait for a condition
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
        return null;
    }
}
