package io.pgbridge.internal.replication;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Base64;

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
 *       local, {@code "2026-11-22T03:04:05.123456"}; {@code infinity} and BC dates stay as PostgreSQL writes them.
 *   <li>{@code bytea}: a base64 string (RFC 4648).
 *   <li>arrays of the above (and of text-like types): JSON arrays, nested per dimension, elements typed the same way.
 *   <li>anything else ({@code text}, {@code varchar}, {@code uuid}, {@code date}, {@code time}, {@code interval},
 *       enums, domains, ...): the text output as a JSON string.
 * </ul>
 *
 * The text output depends on the session's {@code DateStyle} ({@code ISO}, which pgjdbc sets) and
 * {@code bytea_output} (the default {@code hex}; {@code escape} output is passed on as a string). Stateless.
 */
public final class ValueWriter {
    private static final DateTimeFormatter PG_TIMESTAMP = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart()
            .appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true)
            .optionalEnd()
            .toFormatter();
    private static final DateTimeFormatter PG_TIMESTAMPTZ = new DateTimeFormatterBuilder()
            .append(PG_TIMESTAMP)
            .appendPattern("[XXXXX][XXX][X]")
            .toFormatter();

    private ValueWriter() {}

    /** Writes the value of a column whose text output is {@code text} (UTF-8). */
    public static void write(JsonGenerator g, int typeOid, byte[] text) throws IOException {
        switch (typeOid) {
            case PgTypes.INT2, PgTypes.INT4, PgTypes.INT8, PgTypes.OID -> g.writeNumber(ascii(text));
            case PgTypes.FLOAT4, PgTypes.FLOAT8, PgTypes.NUMERIC -> number(g, ascii(text));
            case PgTypes.BOOL -> g.writeBoolean(text.length > 0 && text[0] == 't');
            case PgTypes.JSON, PgTypes.JSONB -> g.writeRawValue(new RawJson(text));
            case PgTypes.TIMESTAMPTZ -> g.writeString(timestampTz(ascii(text)));
            case PgTypes.TIMESTAMP -> g.writeString(timestamp(ascii(text)));
            case PgTypes.BYTEA -> bytea(g, text);
            default -> {
                int element = PgTypes.elementOf(typeOid);
                if (element != 0) {
                    ArrayLiteral.write(g, element, new String(text, StandardCharsets.UTF_8));
                } else {
                    g.writeString(new String(text, StandardCharsets.UTF_8));
                }
            }
        }
    }

    /** Writes one array element or other value given as a Java string. */
    static void write(JsonGenerator g, int typeOid, String text) throws IOException {
        write(g, typeOid, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void number(JsonGenerator g, String s) throws IOException {
        char c = s.isEmpty() ? ' ' : s.charAt(s.length() - 1);
        if (Character.isDigit(c)) {
            g.writeNumber(s);
        } else {
            g.writeString(s); // NaN, Infinity, -Infinity
        }
    }

    private static void bytea(JsonGenerator g, byte[] text) throws IOException {
        if (text.length >= 2 && text[0] == '\\' && text[1] == 'x') {
            byte[] bytes = new byte[(text.length - 2) / 2];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) ((Character.digit(text[2 + 2 * i], 16) << 4) | Character.digit(text[3 + 2 * i], 16));
            }
            g.writeString(Base64.getEncoder().encodeToString(bytes));
        } else {
            g.writeString(new String(text, StandardCharsets.UTF_8));
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
            return s; // infinity, -infinity, BC dates, years beyond 9999
        }
    }

    static String timestamp(String s) {
        try {
            return LocalDateTime.parse(s, PG_TIMESTAMP).toString();
        } catch (DateTimeParseException e) {
            return s;
        }
    }

    private static String ascii(byte[] text) {
        return new String(text, StandardCharsets.ISO_8859_1);
    }
}
