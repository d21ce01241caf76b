package io.pgbridge.internal;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unique, time-ordered event ids in the UUID version 7 layout (RFC 9562), for sources whose events have none.
 * Thread-safe.
 */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong LAST = new AtomicLong();
    /**
     * The random bits of each thread's ids, drawn from {@link #RANDOM} 4 KiB at a time: one call per 512 ids instead of
     * one per id, which cost about half a microsecond each (the NOTIFY source makes an id per notification).
     */
    private static final ThreadLocal<ByteBuffer> RANDOM_BITS = ThreadLocal.withInitial(() -> {
        ByteBuffer block = ByteBuffer.allocate(4096);
        block.position(block.limit());
        return block;
    });

    private Ids() {}

    /** A new UUIDv7 string; ids made in one JVM sort in creation order. */
    public static String timeOrdered() {
        // 48 bits of milliseconds, then a 12-bit counter in the "rand_a" field so ids of one millisecond stay ordered.
        long now = System.currentTimeMillis() << 12;
        long stamp = LAST.updateAndGet(prev -> Math.max(prev + 1, now));
        long msb = ((stamp >>> 12) << 16) | 0x7000L | (stamp & 0xFFFL);
        long lsb = (randomLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }

    private static long randomLong() {
        ByteBuffer bits = RANDOM_BITS.get();
        if (!bits.hasRemaining()) {
            RANDOM.nextBytes(bits.array());
            bits.clear();
        }
        return bits.getLong();
    }
}
