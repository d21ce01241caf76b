package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's wide table (int, bigint, numeric, text, varchar, bool, uuid, timestamptz, date, jsonb, bytea,
 * text[]) with the edge values of each type, through the WAL path: every value of every change event is compared with
 * what PostgreSQL itself says the value is, in the form docs/wal.md documents: {@code to_json} of the value for
 * numbers, bool, text, uuid, jsonb and arrays; the text output for date (and for an infinite or BC timestamptz); the
 * base64 of the bytes ({@code encode(..., 'base64')}) for bytea; and for a finite timestamptz an ISO-8601 UTC
 * instant equal to {@code extract(epoch FROM value)}.
 */
class WalWideTableIT {
    private static final List<String> COLUMNS =
            List.of("n", "big", "amount", "note", "code", "flag", "ref", "at", "day", "doc", "blob", "tags");

    /** Rows of edge values, column to SQL expression; columns left out are NULL. */
    private static final List<Map<String, String>> ROWS = List.of(
            Map.of(),
            row(
                    "n", "-2147483648",
                    "big", "-9223372036854775808",
                    "amount", "'NaN'",
                    "note", "''",
                    "code", "''",
                    "flag", "false",
                    "ref", "'00000000-0000-0000-0000-000000000000'",
                    "at", "'-infinity'",
                    "day", "'0044-03-15 BC'",
                    "doc", "'null'",
                    "blob", "'\\x'",
                    "tags", "'{}'"),
            row(
                    "n", "2147483647",
                    "big", "9223372036854775807",
                    "amount", "'Infinity'",
                    "note", "E'quotes \" back\\\\slash \\t tab \\u0001 ctl \u00e9 \\U0001F600 NULL'",
                    "code", "'NULL'",
                    "flag", "true",
                    "ref", "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                    "at", "'infinity'",
                    "day", "'infinity'",
                    "doc",
                            "'{\"a\": 1.50, \"b\": [null, true, false], \"n\": 123456789012345678901234567890.123456789,"
                                    + " \"s\": \"\\u00e9 \\\" \\\\ \\n\"}'",
                    "blob",
                            "(SELECT decode(string_agg(lpad(to_hex(b), 2, '0'), '' ORDER BY b), 'hex')"
                                    + " FROM generate_series(0, 255) b)",
                    "tags", "'{NULL}'"),
            row(
                    "amount", "'-Infinity'",
                    "at", "'0044-03-15 12:00:00+00 BC'",
                    "day", "'-infinity'",
                    "doc", "'[]'",
                    "blob", "'\\x00'",
                    "tags",
                            "ARRAY['with \"quotes\"', 'NULL', 'null', '', 'a,b', '{braces}', ' spaced ', 'back\\slash',"
                                    + " E'tab\\there', '\u00e9\u00e8', NULL]"),
            row(
                    "amount", "'123456789012345678901234567890.123456789012345678901234567890'",
                    "at", "'2026-11-22 03:04:05.123456+05:30'",
                    "day", "'5874897-12-31'",
                    "doc", "'\"str\"'",
                    "tags", "'{{a,b},{c,NULL}}'"),
            row(
                    "amount", "'0.00000000000000000001'",
                    "at", "'0001-01-01 00:00:00+00'",
                    "day", "'0001-01-01'",
                    "doc", "'1e400'",
                    "tags", "'[0:1]={x,y}'"),
            row(
                    "amount", "'-0.000'",
                    "at", "'9999-12-31 23:59:59.999999+00'",
                    "doc", "'{\"nested\": {\"deep\": [[], {}]}}'",
                    "tags", "ARRAY['\\', '\"', ',', '}']"),
            row(
                    "amount",
                    "1e30",
                    "at",
                    "'10000-01-01 00:00:00.5+00'",
                    "tags",
                    "ARRAY[ARRAY['x', 'y'], ARRAY[NULL, 'z']]"),
            row("amount", "-1.5", "at", "'2000-02-29 12:00:00.1+00'", "tags", "'{\"\"}'"),
            row("amount", "0", "at", "'1970-01-01 00:00:00+00'", "tags", "ARRAY[repeat('x', 10000), 'y']"),
            row("tags", "ARRAY[E'\\u0001x\\u0001', E'\\u007f', '\u00a0']"));
    /** Exact decimals (JSON numbers keep their scale), so that {@code 1.50} and {@code 1.5} differ. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));

    private WalFixture db;

    @BeforeEach
    void setUp() throws Exception {
        db = new WalFixture();
    }

    @AfterEach
    void tearDown() throws Exception {
        db.close();
    }

    @Test
    void everyEdgeValueOfEveryTypeIsWhatPostgresqlSaysItIs() throws Exception {
        String t = db.schema + ".wide";
        db.exec("CREATE TABLE " + t + " (id int PRIMARY KEY, n int, big bigint, amount numeric, note text,"
                + " code varchar(64), flag bool, ref uuid, at timestamptz, day date, doc jsonb, blob bytea,"
                + " tags text[])");
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = db.bridge(t + "->queue:wide", sink).build()) {
            bridge.start();
            for (int id = 0; id < ROWS.size(); id++) {
                Map<String, String> r = ROWS.get(id);
                db.exec("INSERT INTO " + t + " (id" + (r.isEmpty() ? "" : ", " + String.join(", ", r.keySet()))
                        + ") VALUES (" + id + (r.isEmpty() ? "" : ", " + String.join(", ", r.values())) + ")");
            }
            List<Event> events = sink.await(ROWS.size(), Duration.ofSeconds(30));
            assertThat(events).as("one event per row").hasSize(ROWS.size());
            for (Event e : events) {
                JsonNode row = JSON.readTree(e.payload()).get("new");
                int id = row.get("id").intValue();
                JsonNode expected = expected(t, id);
                for (String column : COLUMNS) {
                    assertValue(column + " of row " + id + " " + ROWS.get(id), row.get(column), expected.get(column));
                }
            }
        }
    }

    /** What PostgreSQL says each value of row {@code id} is, in the documented form (see the class comment). */
    private JsonNode expected(String table, int id) throws Exception {
        try (PreparedStatement ps = db.sql.prepareStatement("SELECT json_build_object('n', to_json(n), 'big',"
                + " to_json(big), 'amount', to_json(amount), 'note', to_json(note), 'code', to_json(code), 'flag',"
                + " to_json(flag), 'ref', to_json(ref), 'at', CASE WHEN NOT isfinite(at) OR at::text LIKE '% BC' THEN"
                + " to_json(at::text) ELSE to_json(extract(epoch FROM at)) END, 'day', to_json(day::text), 'doc',"
                + " to_json(doc), 'blob', to_json(translate(encode(blob, 'base64'), E'\\n', '')), 'tags',"
                + " to_json(tags))::text FROM " + table + " WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("row %s", id).isTrue();
                return JSON.readTree(rs.getString(1));
            }
        }
    }

    private static void assertValue(String what, JsonNode actual, JsonNode expected) {
        assertThat(actual).as("%s is present", what).isNotNull();
        if (what.startsWith("at ") && expected.isNumber()) {
            // a finite timestamptz: an ISO-8601 instant in UTC, the same instant as PostgreSQL's epoch
            assertThat(actual.isTextual()).as("%s is a string", what).isTrue();
            assertThat(actual.textValue()).as("%s is in UTC", what).endsWith("Z");
            Instant instant = Instant.parse(actual.textValue());
            BigDecimal seconds =
                    BigDecimal.valueOf(instant.getEpochSecond()).add(BigDecimal.valueOf(instant.getNano(), 9));
            assertThat(seconds).as("%s: %s", what, actual).isEqualByComparingTo(expected.decimalValue());
        } else {
            assertThat(actual).as(what).isEqualTo(expected);
        }
    }

    private static Map<String, String> row(String... columnsAndValues) {
        Map<String, String> r = new LinkedHashMap<>();
        for (int i = 0; i < columnsAndValues.length; i += 2) {
            r.put(columnsAndValues[i], columnsAndValues[i + 1]);
        }
        return r;
    }
}
