package io.pgbridge.internal.replication;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.UTF8JsonGenerator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.SignStyle;
import java.time.temporal.ChronoField;

/**
 * Writes a column value from its PostgreSQL text output as typed JSON, by type OID:
 *
 * <ul>
 *   <li>{@code int2, int4, int8, oid, float4, float8, numeric}: a JSON number with the server's exact digits (no
 *       rounding through {@code double}); {@code NaN} and {@code ±Infinity} as the strings {@code "NaN"},
 *       {@code "Infinity"}, {@code "-Infinity"}.
 *   <li>{@code bool}: {@code true}/{@code false}.
 *   <li>{@code json, jsonb}: the document itself, nested.
 *   <li>{@code timestamptz}: ISO-8601 in UTC, {@code "2026-11-22T03:04:05.123456Z"}; {@code timestamp}: ISO-8601
 *       local, {@code "2026-11-22T03:04:05.123456"}; years after 9999 with a sign, as {@link java.time.Instant#toString}
 *       writes them ({@code "+10000-01-01T00:00:00Z"}); {@code infinity} and BC dates stay as PostgreSQL writes them.
 *   <li>{@code bytea}: a base64 string (RFC 4648).
 *   <li>arrays of the above (and of text-like types): JSON arrays, nested per dimension, elements typed the same way;
 *       explicit lower bounds ({@code [0:1]={a,b}}) are dropped, as {@code to_json} drops them.
 *   <li>anything else ({@code text}, {@code varchar}, {@code uuid}, {@code date}, {@code time}, {@code interval},
 *       enums, domains, ...): the text output as a JSON string.
 * </ul>
 *
 * The text output depends on the session's {@code DateStyle} ({@code ISO}, which pgjdbc sets) and
 * {@code bytea_output} (the default {@code hex}; {@code escape} output is passed on as a string). Stateless.
 */
public final class ValueWriter {
    /** {@code DateStyle=ISO} output; years of more than four digits (up to PostgreSQL's 294276) without a sign. */
    private static final DateTimeFormatter PG_TIMESTAMP = new DateTimeFormatterBuilder()
            .appendValue(ChronoField.YEAR, 4, 10, SignStyle.NORMAL)
            .appendPattern("-MM-dd HH:mm:ss")
            .optionalStart()
            .appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true)
            .optionalEnd()
            .toFormatter();

    private static final DateTimeFormatter PG_TIMESTAMPTZ = new DateTimeFormatterBuilder()
            .append(PG_TIMESTAMP)
            .appendPattern("[XXXXX][XXX][X]")
            .toFormatter();

    /** The value of each hexadecimal digit (as byteaout writes them, lower case; upper case too), by byte. */
    private static final byte[] HEX = new byte[256];
    /**
     * Each decoding thread's buffer for a timestamp's UTC text: the array, handed to Jackson, escaped the method and
     * was an allocation per {@code timestamptz} value (about 3% of the bytes a WAL change event allocates).
     */
    private static final ThreadLocal<byte[]> UTC_TEXT =
            ThreadLocal.withInitial(() -> new byte[TimestampText.MAX_LENGTH]);

    static {
        for (int i = 0; i < 10; i++) {
            HEX['0' + i] = (byte) i;
        }
        for (int i = 0; i < 6; i++) {
            HEX['a' + i] = (byte) (10 + i);
            HEX['A' + i] = (byte) (10 + i);
        }
    }

    private ValueWriter() {}

    /** Writes the value whose text output is {@code text[offset, offset + length)} (UTF-8). */
    public static void write(JsonGenerator g, int typeOid, byte[] text, int offset, int length) throws IOException {
        switch (typeOid) {
            case PgTypes.INT2, PgTypes.INT4, PgTypes.INT8, PgTypes.OID ->
                g.writeRawValue(new RawJson(text, offset, length));
            case PgTypes.FLOAT4, PgTypes.FLOAT8, PgTypes.NUMERIC -> number(g, text, offset, length);
            case PgTypes.BOOL -> g.writeBoolean(length > 0 && text[offset] == 't');
            case PgTypes.JSON, PgTypes.JSONB -> g.writeRawValue(new RawJson(text, offset, length));
            case PgTypes.TIMESTAMPTZ -> timestampTz(g, text, offset, length);
            case PgTypes.TIMESTAMP -> g.writeString(timestamp(ascii(text, offset, length)));
            case PgTypes.BYTEA -> bytea(g, text, offset, length);
            default -> {
                int element = PgTypes.elementOf(typeOid);
                if (element != 0) {
                    ArrayLiteral.write(g, element, text, offset, length);
                } else {
                    string(g, text, offset, length);
                }
            }
        }
    }

    /**
     * Writes UTF-8 text as a JSON string: a byte-based generator copies (and escapes) the bytes as they are, without
     * decoding them to a {@code String} and encoding them again.
     */
    static void string(JsonGenerator g, byte[] utf8, int offset, int length) throws IOException {
        if (g instanceof UTF8JsonGenerator) {
            g.writeUTF8String(utf8, offset, length);
        } else {
            g.writeString(new String(utf8, offset, length, StandardCharsets.UTF_8));
        }
    }

    /**
     * A float's or numeric's text output as a JSON number, its digits as they are (exact: never through {@code double}),
     * or, for {@code NaN}, {@code Infinity} and {@code -Infinity}, which JSON has no number for, as a string.
     */
    private static void number(JsonGenerator g, byte[] text, int offset, int length) throws IOException {
        byte last = length == 0 ? (byte) ' ' : text[offset + length - 1];
        if (last >= '0' && last <= '9') {
            g.writeRawValue(new RawJson(text, offset, length));
        } else {
            string(g, text, offset, length);
        }
    }

    /** {@code \x} hex output as base64 (the generator's default variant: RFC 4648, padded, no line feeds). */
    private static void bytea(JsonGenerator g, byte[] text, int offset, int length) throws IOException {
        if (length >= 2 && text[offset] == '\\' && text[offset + 1] == 'x') {
            byte[] bytes = new byte[(length - 2) / 2];
            for (int i = 0, at = offset + 2; i < bytes.length; i++, at += 2) {
                bytes[i] = (byte) ((HEX[text[at] & 0xff] << 4) | HEX[text[at + 1] & 0xff]);
            }
            g.writeBinary(bytes);
        } else {
            string(g, text, offset, length);
        }
    }

    /**
     * A timestamptz as ISO-8601 UTC: the plain shape rewritten byte for byte into a small buffer (the form is ASCII
     * and needs no escaping), anything else through {@link #parsedTimestampTz}.
     */
    private static void timestampTz(JsonGenerator g, byte[] text, int offset, int length) throws IOException {
        byte[] utc = UTC_TEXT.get();
        int n = TimestampText.toUtc(text, offset, length, utc);
        if (n < 0) {
            g.writeString(parsedTimestampTz(ascii(text, offset, length)));
        } else if (g instanceof UTF8JsonGenerator) {
            g.writeRawUTF8String(utc, 0, n);
        } else {
            g.writeString(new String(utc, 0, n, StandardCharsets.ISO_8859_1));
        }
    }

    /** A timestamptz text output as ISO-8601 UTC, or the text itself when it is not a plain date and time. */
    public static String timestampTz(String s) {
        String utc = TimestampText.toUtc(s);
        return utc != null ? utc : parsedTimestampTz(s);
    }

    /** {@link #timestampTz} through {@code java.time}: the general path, for what {@link TimestampText} declines. */
    static String parsedTimestampTz(String s) {
        try {
            return OffsetDateTime.parse(s, PG_TIMESTAMPTZ).toInstant().toString();
        } catch (DateTimeParseException e) {
            return s; // infinity, -infinity, BC dates
        }
    }

    /**
     * A {@code timestamp} as ISO-8601 local time in the form {@code timestamptz} gets (always with seconds, fractions
     * in groups of three digits, a sign after year 9999): {@link java.time.Instant#toString} without its {@code Z}.
     * ({@link LocalDateTime#toString} would drop zero seconds.)
     */
    static String timestamp(String s) {
        try {
            String utc = LocalDateTime.parse(s, PG_TIMESTAMP)
                    .toInstant(ZoneOffset.UTC)
                    .toString();
            return utc.substring(0, utc.length() - 1);
        } catch (DateTimeParseException e) {
            return s;
        }
    }

    private static String ascii(byte[] text, int offset, int length) {
        return new String(text, offset, length, StandardCharsets.ISO_8859_1);
    }
}
