package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.BigRange;
import net.jqwik.api.constraints.Scale;
import net.jqwik.api.constraints.Size;

/**
 * Any value of the types whose text output {@link ValueWriter} rewrites comes back exactly from the JSON it writes:
 * text arrays (any elements, NULLs, quotes, backslashes, braces, commas, blanks, control characters, {@code "NULL"}),
 * numerics of any
 * precision, any bytes. The generators produce the server's text output as {@code array_out}, {@code numeric_out} and
 * {@code byteaout} (hex) write it; the integration test {@code WalWideTableIT} checks the same against a real server.
 * Written by the byte-based generator the change events use, from the middle of a larger array as in a decoded message.
 */
class ValueWriterPropertyTest {
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final int TEXT_ARRAY = 1009;
    private static final int VARCHAR_ARRAY = 1015;

    @Property(tries = 2_000)
    void textArraysComeBackElementForElement(@ForAll("textArrays") List<String> elements) throws Exception {
        JsonNode json = write(TEXT_ARRAY, arrayOut(elements));

        assertThat(json.isArray()).as("a JSON array").isTrue();
        List<String> back = new ArrayList<>();
        json.forEach(e -> back.add(e.isNull() ? null : e.textValue()));
        assertThat(back).as("elements of %s", arrayOut(elements)).isEqualTo(elements);
    }

    @Property(tries = 500)
    void twoDimensionalVarcharArraysKeepTheirShape(
            @ForAll @Size(min = 1, max = 4) List<@Size(value = 3) List<@From("element") String>> rows)
            throws Exception {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < rows.size(); i++) {
            out.append(i > 0 ? "," : "").append(arrayOut(rows.get(i)));
        }
        JsonNode json = write(VARCHAR_ARRAY, out.append('}').toString());

        List<List<String>> back = new ArrayList<>();
        json.forEach(row -> {
            List<String> r = new ArrayList<>();
            row.forEach(e -> r.add(e.isNull() ? null : e.textValue()));
            back.add(r);
        });
        assertThat(back).as("elements of %s", out).isEqualTo(rows);
    }

    @Property(tries = 2_000)
    void numericsKeepEveryDigit(@ForAll @BigRange(min = "-1e40", max = "1e40") @Scale(30) BigDecimal value)
            throws Exception {
        String text = value.toPlainString(); // numeric_out: plain notation, the scale's digits
        String written = written(PgTypes.NUMERIC, text);

        assertThat(written).as("the server's digits, unchanged").isEqualTo(text);
        assertThat(JSON.readTree(written).isNumber())
                .as("%s is a JSON number", text)
                .isTrue();
    }

    @Property(tries = 1_000)
    void byteaIsTheBase64OfTheSameBytes(@ForAll @Size(max = 600) byte[] bytes) throws Exception {
        String hex = "\\x" + HexFormat.of().formatHex(bytes);
        JsonNode json = write(PgTypes.BYTEA, hex);

        assertThat(json.isTextual()).isTrue();
        assertThat(json.textValue()).isEqualTo(Base64.getEncoder().encodeToString(bytes));
    }

    @Property(tries = 1_000)
    void jsonDocumentsAreNestedAsTheyAre(
            @ForAll @Size(max = 6) Map<@From("element") String, @Size(max = 4) List<@From("element") String>> document)
            throws Exception {
        String text = JSON.writeValueAsString(document);
        for (int typeOid : new int[] {PgTypes.JSON, PgTypes.JSONB}) {
            assertThat(written(typeOid, text)).as("type %d", typeOid).isEqualTo(text);
        }
    }

    @Provide
    Arbitrary<List<String>> textArrays() {
        return element().injectNull(0.1).list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<String> element() {
        return Arbitraries.oneOf(
                Arbitraries.strings()
                        .withChars("{}\",\\ \t\nNULabc\u00e9\u0001\u001f")
                        .ofMaxLength(8),
                Arbitraries.of("NULL", "null", "", " ", "{}", "\\", "\""),
                Arbitraries.strings().all().ofMaxLength(6).filter(s -> s.indexOf('\0') < 0 && isWellFormed(s)));
    }

    private static boolean isWellFormed(String s) {
        return StandardCharsets.UTF_8.newEncoder().canEncode(s);
    }

    /**
     * A one-dimensional array as {@code array_out} writes it: an element is double-quoted when it is empty, is
     * {@code NULL} in any case, or contains {@code { } " , \} or white space, and then {@code "} and {@code \} are
     * escaped with a backslash; a null element is an unquoted {@code NULL}.
     */
    private static String arrayOut(List<String> elements) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < elements.size(); i++) {
            String e = elements.get(i);
            out.append(i > 0 ? "," : "");
            if (e == null) {
                out.append("NULL");
            } else if (e.isEmpty()
                    || e.toUpperCase(Locale.ROOT).equals("NULL")
                    || e.matches("(?s).*[{}\",\\\\ \t\n\r\u000b\f].*")) {
                out.append('"')
                        .append(e.replace("\\", "\\\\").replace("\"", "\\\""))
                        .append('"');
            } else {
                out.append(e);
            }
        }
        return out.append('}').toString();
    }

    private static JsonNode write(int typeOid, String text) throws Exception {
        return JSON.readTree(written(typeOid, text));
    }

    /** The JSON text {@link ValueWriter} writes for the text output {@code text} of a value of {@code typeOid}. */
    private static String written(int typeOid, String text) throws Exception {
        ByteArrayBuilder buffer = new ByteArrayBuilder();
        try (JsonGenerator g = FACTORY.createGenerator(buffer, JsonEncoding.UTF8)) {
            ValueWriterTest.writeAsInAMessage(g, typeOid, text);
        }
        return new String(buffer.toByteArray(), StandardCharsets.UTF_8);
    }
}
