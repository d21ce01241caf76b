package io.pgbridge.internal;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The halves of unique, time-ordered event ids in the UUID version 7 layout (RFC 9562), for sources whose events have
 * none ({@link io.pgbridge.Event.Builder#timeOrderedId()}), and their text. Thread-safe.
 *
 * <p>Unique, not unguessable: ids made in one JVM differ by their 60-bit time stamp and counter alone, and the 62
 * random bits, which keep ids of different JVMs apart, come from a fast generator seeded per thread from
 * {@link SecureRandom}. Drawing each id's bits from {@code SecureRandom} itself cost about a third of the NOTIFY
 * listener thread's time (JFR, 600,000 notifications), more than reading the notifications; formatting the text of
 * each id there cost another seventh (async-profiler, 1,000,000 notifications), so the text is made only when read.
 */
public final class Ids {
    /** The length of an id's text: 32 hexadecimal digits and 4 hyphens. */
    public static final int TEXT_LENGTH = 36;

    private static final SecureRandom SEEDS = new SecureRandom();
    private static final AtomicLong LAST = new AtomicLong();
    private static final ThreadLocal<SplittableRandom> RANDOM =
            ThreadLocal.withInitial(() -> new SplittableRandom(SEEDS.nextLong()));

    private Ids() {}

    /**
     * The most significant 64 bits of a new id: 48 bits of milliseconds since the epoch, the version, and a 12-bit
     * counter in the {@code rand_a} field, so that ids of one millisecond stay ordered. Strictly increasing within
     * this JVM.
     */
    public static long nextTimeOrderedHigh() {
        long now = System.currentTimeMillis() << 12;
        long prev;
        long stamp;
        do { // not updateAndGet: its lambda, capturing now, was an allocation per id
            prev = LAST.get();
            stamp = Math.max(prev + 1, now);
        } while (!LAST.compareAndSet(prev, stamp));
        return ((stamp >>> 12) << 16) | 0x7000L | (stamp & 0xFFFL);
    }

    /** The least significant 64 bits of an id: the RFC 9562 variant and 62 random bits. */
    public static long randomLow() {
        return (RANDOM.get().nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    }

    /** The id's text, such as {@code 0192f0c4-7d2a-7000-8a3b-5f1e2d3c4b5a}: {@link #TEXT_LENGTH} characters. */
    public static String text(long high, long low) {
        return new UUID(high, low).toString();
    }
}
