package io.pgbridge.internal.replication;

/**
 * PostgreSQL's {@code X/X} notation of an LSN, as {@code LogSequenceNumber.asString()} gives it, character for
 * character, without its {@code String.format} (the WAL reader writes an LSN twice per transaction: with single-row
 * transactions the formatting was a seventh of its time). pgbridge writes every LSN with it: events, logs, and the
 * {@code pg_lsn} values it stores. Stateless; any thread.
 */
public final class LsnText {
    private static final char[] DIGITS = "0123456789ABCDEF".toCharArray();

    private LsnText() {}

    /** The upper and the lower 32 bits of {@code lsn}, each in upper-case hexadecimal without leading zeros. */
    public static String of(long lsn) {
        char[] out = new char[17];
        int at = put(out, 0, (int) (lsn >>> 32));
        out[at++] = '/';
        at = put(out, at, (int) lsn);
        return new String(out, 0, at);
    }

    private static int put(char[] out, int at, int half) {
        int digits = Math.max(1, (Integer.SIZE - Integer.numberOfLeadingZeros(half) + 3) / 4);
        for (int i = digits - 1; i >= 0; i--) {
            out[at + i] = DIGITS[half & 0xF];
            half >>>= 4;
        }
        return at + digits;
    }
}
