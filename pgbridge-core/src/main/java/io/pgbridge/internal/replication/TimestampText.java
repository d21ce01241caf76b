package io.pgbridge.internal.replication;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Rewrites PostgreSQL's {@code timestamptz} text output ({@code DateStyle=ISO}: {@code 2026-11-22 03:04:05.123456+05:30})
 * as the ISO-8601 UTC form {@link java.time.Instant#toString()} gives, character for character, without building
 * {@code java.time} objects: the WAL reader meets one such value per row and per timestamp column, and parsing them
 * with a {@code DateTimeFormatter} was half of its time.
 *
 * <p>Only the plain shape is handled here: a four-digit year, optional fraction of up to 9 digits, an offset of
 * {@code ±HH}, {@code ±HH:MM} or {@code ±HH:MM:SS}, and a UTC result within years 1–9999. Anything else
 * ({@code infinity}, BC dates, five-digit years) returns {@code null} and the caller takes the general path. Stateless.
 */
public final class TimestampText {
    private static final int SECONDS_PER_DAY = 86_400;

    private TimestampText() {}

    /** Enough for the longest result, {@code 9999-12-31T23:59:59.123456789Z}. */
    static final int MAX_LENGTH = 30;

    /**
     * The UTC ISO-8601 form of {@code s}, or {@code null} when {@code s} is not of the plain shape described above.
     */
    static String toUtc(String s) {
        byte[] text = s.getBytes(StandardCharsets.ISO_8859_1); // other characters become '?', which no shape has
        byte[] out = new byte[MAX_LENGTH];
        int length = toUtc(text, 0, text.length, out);
        return length < 0 ? null : new String(out, 0, length, StandardCharsets.ISO_8859_1);
    }

    /**
     * {@code t.toString()}, character for character, without a {@code DateTimeFormatter} (the WAL reader writes one
     * commit time per transaction: with single-row transactions it was a seventh of its time). Any thread.
     *
     * @param t not null
     */
    public static String utc(Instant t) {
        byte[] out = new byte[MAX_LENGTH];
        int length = format(t.getEpochSecond(), t.getNano(), out);
        return length < 0 ? t.toString() : new String(out, 0, length, StandardCharsets.ISO_8859_1);
    }

    /**
     * Writes the UTC ISO-8601 form of the ASCII text {@code text[from, from + n)} to {@code out} (at least
     * {@link #MAX_LENGTH} bytes), without allocating.
     *
     * @return the length written, or -1 when the text is not of the plain shape described above
     */
    static int toUtc(byte[] text, int from, int n, byte[] out) {
        Text s = new Text(text, from, n);
        if (n < 22
                || s.charAt(4) != '-'
                || s.charAt(7) != '-'
                || s.charAt(10) != ' '
                || s.charAt(13) != ':'
                || s.charAt(16) != ':') {
            return -1;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if ((year | month | day | hour | minute | second) < 0
                || month < 1
                || month > 12
                || day < 1
                || day > lengthOfMonth(year, month)
                || hour > 23
                || minute > 59
                || second > 59) {
            return -1;
        }
        int i = 19;
        int nanos = 0;
        int fractionDigits = 0;
        if (s.charAt(i) == '.') {
            i++;
            while (i < n && isDigit(s.charAt(i))) {
                if (++fractionDigits > 9) {
                    return -1;
                }
                nanos = nanos * 10 + (s.charAt(i) - '0');
                i++;
            }
            if (fractionDigits == 0) {
                return -1;
            }
            for (int k = fractionDigits; k < 9; k++) {
                nanos *= 10;
            }
        }
        int offset = offsetSeconds(s, i);
        if (offset == Integer.MIN_VALUE) {
            return -1;
        }
        long epochSecond =
                epochDay(year, month, day) * SECONDS_PER_DAY + hour * 3_600L + minute * 60L + second - offset;
        return format(epochSecond, nanos, out);
    }

    /** {@code ±HH}, {@code ±HH:MM} or {@code ±HH:MM:SS} from {@code i} to the end, in seconds; MIN_VALUE if not. */
    private static int offsetSeconds(Text s, int i) {
        int rest = s.length() - i;
        if (rest != 3 && rest != 6 && rest != 9) {
            return Integer.MIN_VALUE;
        }
        char sign = s.charAt(i);
        if (sign != '+' && sign != '-') {
            return Integer.MIN_VALUE;
        }
        int seconds = 0;
        for (int field = 0, at = i + 1; at < s.length(); field++, at += 3) {
            if (field > 0 && s.charAt(at - 1) != ':') {
                return Integer.MIN_VALUE;
            }
            int value = digits(s, at, 2);
            if (value < 0 || value > (field == 0 ? 18 : 59)) {
                return Integer.MIN_VALUE;
            }
            seconds += value * (field == 0 ? 3_600 : field == 1 ? 60 : 1);
        }
        return sign == '-' ? -seconds : seconds;
    }

    private static int format(long epochSecond, int nanos, byte[] out) {
        long epochDay = Math.floorDiv(epochSecond, SECONDS_PER_DAY);
        int secondOfDay = (int) Math.floorMod(epochSecond, SECONDS_PER_DAY);
        // civil from days (H. Hinnant's algorithm), proleptic Gregorian as java.time uses
        long z = epochDay + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int) (doy - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        if (year < 1 || year > 9_999) {
            return -1;
        }
        put(out, 0, (int) year, 4);
        out[4] = '-';
        put(out, 5, month, 2);
        out[7] = '-';
        put(out, 8, day, 2);
        out[10] = 'T';
        put(out, 11, secondOfDay / 3_600, 2);
        out[13] = ':';
        put(out, 14, secondOfDay / 60 % 60, 2);
        out[16] = ':';
        put(out, 17, secondOfDay % 60, 2);
        int at = 19;
        if (nanos != 0) { // as Instant.toString: groups of three digits, as few as the value needs
            out[at++] = '.';
            if (nanos % 1_000_000 == 0) {
                put(out, at, nanos / 1_000_000, 3);
                at += 3;
            } else if (nanos % 1_000 == 0) {
                put(out, at, nanos / 1_000, 6);
                at += 6;
            } else {
                put(out, at, nanos, 9);
                at += 9;
            }
        }
        out[at++] = 'Z';
        return at;
    }

    /** Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days from civil). */
    private static long epochDay(int year, int month, int day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    private static int lengthOfMonth(int year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** The non-negative number in {@code s[from, from + count)}, or -1 if any of it is not a digit. */
    private static int digits(Text s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (!isDigit(c)) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static void put(byte[] out, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
    }

    /** A view of ASCII bytes with the accessors the parser needs; non-ASCII bytes read as non-digits. */
    private record Text(byte[] bytes, int offset, int length) {
        char charAt(int i) {
            return (char) (bytes[offset + i] & 0xff);
        }
    }
}
