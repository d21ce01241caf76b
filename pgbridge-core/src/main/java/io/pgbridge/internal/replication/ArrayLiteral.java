package io.pgbridge.internal.replication;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * Writes a PostgreSQL array's text output ({@code {1,2,NULL}}, {@code {{"a b",c},{d,e}}}) as nested JSON arrays, each
 * element typed by {@link ValueWriter}. The syntax is that of "Array Value Input" (arrays.html#ARRAYS-IO): elements
 * separated by commas, double quotes around elements with special characters, backslash escapes inside quotes, an
 * unquoted {@code NULL} for null. An array with explicit bounds ({@code [0:1]={1,2}}) is written as its text.
 */
final class ArrayLiteral {
    private final String s;
    private final int element;
    private int pos;

    private ArrayLiteral(String s, int element) {
        this.s = s;
        this.element = element;
    }

    static void write(JsonGenerator g, int elementOid, String text) throws IOException {
        if (text.isEmpty() || text.charAt(0) != '{') {
            g.writeString(text);
            return;
        }
        new ArrayLiteral(text, elementOid).array(g);
    }

    private void array(JsonGenerator g) throws IOException {
        pos++; // '{'
        g.writeStartArray();
        if (s.charAt(pos) == '}') {
            pos++;
            g.writeEndArray();
            return;
        }
        while (true) {
            char c = s.charAt(pos);
            if (c == '{') {
                array(g);
            } else if (c == '"') {
                ValueWriter.write(g, element, quoted());
            } else {
                String raw = unquoted();
                if (raw.equals("NULL")) {
                    g.writeNull();
                } else {
                    ValueWriter.write(g, element, raw);
                }
            }
            char next = s.charAt(pos++);
            if (next == '}') {
                g.writeEndArray();
                return;
            }
        }
    }

    private String quoted() {
        StringBuilder sb = new StringBuilder();
        pos++; // opening quote
        while (true) {
            char c = s.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                c = s.charAt(pos++);
            }
            sb.append(c);
        }
    }

    private String unquoted() {
        int start = pos;
        while (s.charAt(pos) != ',' && s.charAt(pos) != '}') {
            pos++;
        }
        return s.substring(start, pos).trim();
    }
}
