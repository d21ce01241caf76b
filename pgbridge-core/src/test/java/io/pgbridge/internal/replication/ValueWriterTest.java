package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ValueWriterTest {

    /** Bytes around a value that break its JSON if the writer reads past either end of it. */
    private static final byte[] AROUND = "\\x{\",}[]\\".getBytes(StandardCharsets.UTF_8);

    /**
     * Writes {@code text} as {@link ValueWriter} gets it from a decoded message: a range in the middle of a larger
     * array, between bytes that are no part of it.
     */
    static void writeAsInAMessage(JsonGenerator g, int typeOid, String text) throws Exception {
        byte[] value = text.getBytes(StandardCharsets.UTF_8);
        byte[] message = new byte[AROUND.length + value.length + AROUND.length];
        System.arraycopy(AROUND, 0, message, 0, AROUND.length);
        System.arraycopy(value, 0, message, AROUND.length, value.length);
        System.arraycopy(AROUND, 0, message, AROUND.length + value.length, AROUND.length);
        ValueWriter.write(g, typeOid, message, AROUND.length, value.length);
    }

    private static String json(int typeOid, String text) throws Exception {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            writeAsInAMessage(g, typeOid, text);
        }
        return out.toString();
    }

    @Test
    void numbersKeepTheServersDigits() throws Exception {
        assertThat(json(1700, "123456789012345678901234567890.000000000000000001"))
                .as("numeric")
                .isEqualTo("123456789012345678901234567890.000000000000000001");
        assertThat(json(701, "1e+300")).as("float8 exponent").isEqualTo("1e+300");
        assertThat(json(701, "-Infinity")).as("float8 infinity").isEqualTo("\"-Infinity\"");
        assertThat(json(1700, "NaN")).as("numeric NaN").isEqualTo("\"NaN\"");
        assertThat(json(20, "-9223372036854775808")).as("int8").isEqualTo("-9223372036854775808");
    }

    @Test
    void timestampsBecomeIso8601() throws Exception {
        assertThat(json(1184, "2026-11-22 03:04:05.123456+05:30")).isEqualTo("\"2026-11-21T21:34:05.123456Z\"");
        assertThat(json(1184, "2026-11-22 03:04:05+00")).isEqualTo("\"2026-11-22T03:04:05Z\"");
        assertThat(json(1184, "infinity")).as("kept as written").isEqualTo("\"infinity\"");
        assertThat(json(1184, "0044-03-15 12:00:00+00 BC")).as("BC kept").isEqualTo("\"0044-03-15 12:00:00+00 BC\"");
        assertThat(json(1114, "2026-11-22 03:04:05.5")).isEqualTo("\"2026-11-22T03:04:05.500\"");
        assertThat(json(1114, "2026-11-22 03:04:00"))
                .as("seconds kept when zero, as in timestamptz")
                .isEqualTo("\"2026-11-22T03:04:00\"");
        assertThat(json(1114, "10000-01-01 00:00:00")).as("after 9999").isEqualTo("\"+10000-01-01T00:00:00\"");
    }

    @Test
    void arraysNestAndTypeTheirElements() throws Exception {
        assertThat(json(1007, "{{1,2},{NULL,4}}")).isEqualTo("[[1,2],[null,4]]");
        assertThat(json(1009, "{\"a,b\",\"q\\\"\",NULL,\"NULL\",plain}"))
                .as("quoted commas, escapes, NULL vs \"NULL\"")
                .isEqualTo("[\"a,b\",\"q\\\"\",null,\"NULL\",\"plain\"]");
        assertThat(json(1000, "{t,f}")).isEqualTo("[true,false]");
        assertThat(json(3807, "{\"{\\\"a\\\": 1}\"}")).as("jsonb[]").isEqualTo("[{\"a\": 1}]");
        assertThat(json(1007, "{}")).isEqualTo("[]");
        assertThat(json(1007, "[0:1]={1,2}"))
                .as("explicit bounds dropped, as to_json does")
                .isEqualTo("[1,2]");
    }

    @Test
    void byteaIsBase64AndUnknownTypesAreStrings() throws Exception {
        assertThat(json(17, "\\x48656c6c6f")).isEqualTo("\"SGVsbG8=\"");
        assertThat(json(16, "t")).isEqualTo("true");
        assertThat(json(123456, "some \"enum\"")).isEqualTo("\"some \\\"enum\\\"\"");
    }
}
