package io.pgbridge.internal.config;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Rules for names that reach PostgreSQL. pgbridge accepts only names that PostgreSQL keeps as written: lower case
 * (an unquoted identifier is folded to lower case) and at most 63 bytes ({@code NAMEDATALEN - 1}; a longer LISTEN
 * channel is silently truncated). See PostgreSQL's "Identifiers and Key Words" (sql-syntax-lexical.html).
 */
public final class Identifiers {
    /** The longest identifier PostgreSQL keeps, in bytes. */
    public static final int MAX_BYTES = 63;

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_$]*");

    private Identifiers() {}

    /**
     * Why {@code name} is not a safe identifier, or {@code null} when it is one.
     *
     * @param what what the name is, for the message ("channel", "slot name")
     */
    public static String problem(String what, String name) {
        if (name == null || name.isEmpty()) {
            return what + " must not be empty";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            return what + " is longer than " + MAX_BYTES + " bytes, which PostgreSQL would truncate";
        }
        if (!name.equals(name.toLowerCase(java.util.Locale.ROOT))
                && IDENTIFIER.matcher(name.toLowerCase(java.util.Locale.ROOT)).matches()) {
            return what + " has upper-case letters, which PostgreSQL folds to lower case; write it as '"
                    + name.toLowerCase(java.util.Locale.ROOT) + "'";
        }
        if (!IDENTIFIER.matcher(name).matches()) {
            return what
                    + " must start with a lower-case letter or '_' and hold only lower-case letters, digits, '_' and '$'";
        }
        return null;
    }

    /** Quotes an identifier for SQL: wraps it in double quotes and doubles inner quotes. */
    public static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
