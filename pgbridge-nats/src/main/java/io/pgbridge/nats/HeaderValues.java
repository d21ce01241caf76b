package io.pgbridge.nats;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * NATS header values are printable ASCII (and tab), as in HTTP/1: a value with any other character (non-ASCII text, a
 * line break) is sent as an RFC 2047 encoded word, {@code =?UTF-8?B?<base64 of the UTF-8 bytes>?=}. A value that
 * already looks like one is encoded as well, so that {@link #decode} gives back exactly what was encoded. Stateless
 * and thread-safe.
 */
public final class HeaderValues {
    private static final String PREFIX = "=?UTF-8?B?";
    private static final String SUFFIX = "?=";

    private HeaderValues() {}

    /** {@code value} as NATS can carry it: unchanged when it is printable ASCII, else an encoded word. */
    public static String encode(String value) {
        if (isPlain(value) && !isEncodedWord(value)) {
            return value;
        }
        return PREFIX + Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)) + SUFFIX;
    }

    /**
     * What a consumer does with a header value pgbridge wrote: an encoded word {@code =?UTF-8?B?...?=} decoded,
     * anything else unchanged.
     */
    public static String decode(String value) {
        if (!isEncodedWord(value)) {
            return value;
        }
        String base64 = value.substring(PREFIX.length(), value.length() - SUFFIX.length());
        try {
            return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return value; // not base64: not one of ours
        }
    }

    private static boolean isPlain(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c > 0x7E) {
                return false;
            }
        }
        return true;
    }

    private static boolean isEncodedWord(String value) {
        return value.length() >= PREFIX.length() + SUFFIX.length()
                && value.regionMatches(true, 0, PREFIX, 0, PREFIX.length())
                && value.endsWith(SUFFIX);
    }
}
