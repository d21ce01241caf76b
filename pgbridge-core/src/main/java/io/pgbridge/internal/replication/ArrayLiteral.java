package io.pgbridge.internal.replication;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * Writes a PostgreSQL array's text output ({@code {1,2,NULL}}, {@code {{"a b",c},{d,e}}}) as nested JSON arrays, each
 * element typed by {@link ValueWriter}. The syntax is that of {@code array_out} (arrays.html#ARRAYS-IO): elements
 * separated by commas, double quotes around elements that are empty, {@code NULL} in any case, or contain braces,
 * quotes, commas, backslashes or white space, a backslash before {@code "} and {@code \} inside quotes, an unquoted
 * {@code NULL} for null. Unquoted elements are taken byte for byte ({@code array_out} writes no white space around
 * them; other control characters are part of the element). Explicit lower bounds ({@code [0:1]={1,2}}) are dropped,
 * as {@code to_json} drops them. Works on the UTF-8 bytes: every delimiter is ASCII, so it never falls inside a
 * multi-byte character. Not thread-safe; one per value.
 */
final class ArrayLiteral {
    private final byte[] s;
    private final int element;
    private int pos;

    private ArrayLiteral(byte[] s, int start, int element) {
        this.s = s;
        this.pos = start;
        this.element = element;
    }

    /** Writes the array whose text output is {@code text[offset, offset + length)}; other text as a string. */
    static void write(JsonGenerator g, int elementOid, byte[] text, int offset, int length) throws IOException {
        int end = offset + length;
        int start = offset;
        if (start < end && text[start] == '[') { // [lower:upper]... = before the braces
            while (start < end && text[start] != '=') {
                start++;
            }
            start++;
        }
        if (start >= end || text[start] != '{') {
            ValueWriter.string(g, text, offset, length);
            return;
        }
        new ArrayLiteral(text, start, elementOid).array(g);
    }

    private void array(JsonGenerator g) throws IOException {
        pos++; // '{'
        g.writeStartArray();
        if (s[pos] == '}') {
            pos++;
            g.writeEndArray();
            return;
        }
        while (true) {
            byte c = s[pos];
            if (c == '{') {
                array(g);
            } else if (c == '"') {
                quoted(g);
            } else {
                unquoted(g);
            }
            if (s[pos++] == '}') {
                g.writeEndArray();
                return;
            }
        }
    }

    /** A quoted element: written from the literal itself unless it has escapes, which a copy then drops. */
    private void quoted(JsonGenerator g) throws IOException {
        int start = pos + 1;
        int end = start;
        boolean escaped = false;
        while (s[end] != '"') {
            if (s[end] == '\\') {
                escaped = true;
                end++;
            }
            end++;
        }
        pos = end + 1;
        if (!escaped) {
            ValueWriter.write(g, element, s, start, end - start);
            return;
        }
        byte[] value = new byte[end - start];
        int n = 0;
        for (int i = start; i < end; i++) {
            if (s[i] == '\\') {
                i++;
            }
            value[n++] = s[i];
        }
        ValueWriter.write(g, element, value, 0, n);
    }

    private void unquoted(JsonGenerator g) throws IOException {
        int start = pos;
        while (s[pos] != ',' && s[pos] != '}') {
            pos++;
        }
        int length = pos - start;
        if (length == 4 && s[start] == 'N' && s[start + 1] == 'U' && s[start + 2] == 'L' && s[start + 3] == 'L') {
            g.writeNull();
        } else {
            ValueWriter.write(g, element, s, start, length);
        }
    }
}
