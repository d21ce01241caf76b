package io.pgbridge.internal;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unique, time-ordered event ids in the UUID version 7 layout (RFC 9562), for sources whose events have none.
 * Thread-safe.
 *
 * <p>Unique, not unguessable: ids made in one JVM differ by their 60-bit time stamp and counter alone, and the 62
 * random bits, which keep ids of different JVMs apart, come from a fast generator seeded per thread from
 * {@link SecureRandom}. Drawing each id's bits from {@code SecureRandom} itself cost about a third of the NOTIFY
 * listener thread's time (JFR, 600,000 notifications), more than reading the notifications.
 */
public final class Ids {
    private static final SecureRandom SEEDS = new SecureRandom();
    private static final AtomicLong LAST = new AtomicLong();
    private static final ThreadLocal<SplittableRandom> RANDOM =
            ThreadLocal.withInitial(() -> new SplittableRandom(SEEDS.nextLong()));

    private Ids() {}

    /** A new UUIDv7 string; ids made in one JVM sort in creation order. */
    public static String timeOrdered() {
        // 48 bits of milliseconds, then a 12-bit counter in the "rand_a" field so ids of one millisecond stay ordered.
        long now = System.currentTimeMillis() << 12;
        long prev;
        long stamp;
        do { // not updateAndGet: its lambda, capturing now, was an allocation per id
            prev = LAST.get();
            stamp = Math.max(prev + 1, now);
        } while (!LAST.compareAndSet(prev, stamp));
        long msb = ((stamp >>> 12) << 16) | 0x7000L | (stamp & 0xFFFL);
        long lsb = (RANDOM.get().nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }
}
