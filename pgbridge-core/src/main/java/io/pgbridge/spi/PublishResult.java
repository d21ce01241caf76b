package io.pgbridge.spi;

import java.util.Objects;

/**
 * The outcome of {@link Sink#publish}: the number of leading events the broker confirmed, and, when that is fewer
 * than were given, why the next event failed. A {@linkplain #isPermanent() permanent} failure (the broker will
 * never accept this event, for example a message over its size limit) sends that one event to the dead-letter
 * handler; any other failure is retried with backoff, starting again at the first unconfirmed event. Immutable.
 */
public final class PublishResult {
    private final int confirmed;
    private final boolean permanent;
    private final String reason;
    private final Throwable cause;

    private PublishResult(int confirmed, boolean permanent, String reason, Throwable cause) {
        if (confirmed < 0) {
            throw new IllegalArgumentException("confirmed must be >= 0");
        }
        this.confirmed = confirmed;
        this.permanent = permanent;
        this.reason = reason;
        this.cause = cause;
    }

    /** All {@code count} events were confirmed. */
    public static PublishResult confirmed(int count) {
        return new PublishResult(count, false, null, null);
    }

    /**
     * The first {@code confirmed} events were confirmed; the next one failed for a reason that may pass (the broker
     * is down, a nack, a timeout). It is retried.
     */
    public static PublishResult failed(int confirmed, String reason, Throwable cause) {
        return new PublishResult(confirmed, false, Objects.requireNonNull(reason, "reason"), cause);
    }

    /**
     * The first {@code confirmed} events were confirmed; the next one can never be delivered. It goes to the
     * dead-letter handler with {@code reason} and the lane moves on.
     */
    public static PublishResult rejected(int confirmed, String reason) {
        return new PublishResult(confirmed, true, Objects.requireNonNull(reason, "reason"), null);
    }

    /** The number of leading events the broker confirmed. */
    public int confirmed() {
        return confirmed;
    }

    /** Whether the event at index {@link #confirmed()} was refused for good. */
    public boolean isPermanent() {
        return permanent;
    }

    /** Why the event at index {@link #confirmed()} failed, or {@code null} when nothing failed. */
    public String reason() {
        return reason;
    }

    /** The exception behind a failure, or {@code null}. */
    public Throwable cause() {
        return cause;
    }

    public boolean isFailure() {
        return reason != null;
    }

    @Override
    public String toString() {
        return reason == null
                ? "PublishResult{confirmed=" + confirmed + '}'
                : "PublishResult{confirmed=" + confirmed + ", " + (permanent ? "rejected" : "failed") + ": " + reason
                        + '}';
    }
}
