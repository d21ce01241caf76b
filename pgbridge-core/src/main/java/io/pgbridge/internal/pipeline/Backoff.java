package io.pgbridge.internal.pipeline;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with ±20% jitter: initial, ×2 per attempt, capped. Immutable. */
public final class Backoff {
    private final long initialMillis;
    private final long maxMillis;

    public Backoff(Duration initial, Duration max) {
        this.initialMillis = Math.max(1, initial.toMillis());
        this.maxMillis = Math.max(initialMillis, max.toMillis());
    }

    /** The longest delay, in milliseconds. */
    public long maxMillis() {
        return maxMillis;
    }

    /** The delay before retry number {@code attempt} (1 for the first retry), in milliseconds. */
    public long delayMillis(int attempt) {
        int shift = Math.min(Math.max(attempt - 1, 0), 30);
        long base = Math.min(maxMillis, initialMillis << shift);
        long jitter = (long) (base * 0.2 * (ThreadLocalRandom.current().nextDouble() * 2 - 1));
        return Math.max(1, Math.min(maxMillis, base + jitter));
    }
}
