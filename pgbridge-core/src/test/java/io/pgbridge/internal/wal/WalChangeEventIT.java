package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.replication.LogSequenceNumber;

/** Each operation and each column type of the pgoutput change event, field by field. */
class WalChangeEventIT {
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
    void everyOperationAndColumnTypeIsTyped() throws Exception {
        String t = db.schema + ".typed";
        db.exec("CREATE TABLE " + t + " (id int PRIMARY KEY, i2 smallint, i8 bigint, f4 real, f8 double precision,"
                + " nan double precision, num numeric, b boolean, txt text, j json, jb jsonb, ts timestamp,"
                + " tstz timestamptz, d date, by bytea, ai int[], at text[], an int, u uuid)");
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = db.bridge(t + "->queue:typed", sink).build()) {
            bridge.start();
            db.exec(
                    "BEGIN",
                    "INSERT INTO " + t + " VALUES (1, -32768, 9223372036854775807, 1.5, 0.1, 'NaN',"
                            + " 12345678901234567890.123456789012345678, true, 'h\u00e9llo \"q\"',"
                            + " '{\"a\": [1, 2.50]}', '{\"b\": {\"c\": null}}', '2026-11-22 03:04:05.123456',"
                            + " '2026-11-22 03:04:05.5+02', '2026-11-22', '\\x00ff10', '{{1,2},{3,NULL}}',"
                            + " '{\"a b\",c,\"q\\\"x\",NULL}', NULL, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')",
                    "UPDATE " + t + " SET txt = 'changed', b = false WHERE id = 1",
                    "COMMIT");
            db.exec("DELETE FROM " + t + " WHERE id = 1");
            db.exec("TRUNCATE " + t);
            db.exec("BEGIN", "SELECT pg_logical_emit_message(true, '" + t + "', 'in a txn')", "COMMIT");
            List<Event> events = sink.await(5, Duration.ofSeconds(30));
            assertThat(events).as("events").hasSize(5);

            JsonNode insert = WalFixture.json(events.get(0));
            assertThat(insert.get("op").asText()).as("op").isEqualTo("insert");
            assertThat(insert.get("schema").asText()).as("schema").isEqualTo(db.schema);
            assertThat(insert.get("table").asText()).as("table").isEqualTo("typed");
            assertThat(insert.get("xid").isIntegralNumber())
                    .as("xid is a number")
                    .isTrue();
            assertThat(insert.get("commitTime").asText()).as("commitTime").endsWith("Z");
            assertThat(insert.get("key").toString())
                    .as("an insert carries the key its later update and delete carry")
                    .isEqualTo("{\"id\":1}");
            JsonNode row = insert.get("new");
            assertThat(row.get("id").isInt()).as("int4 is a number").isTrue();
            assertThat(row.get("id").asInt()).as("id").isEqualTo(1);
            assertThat(row.get("i2").asInt()).as("int2").isEqualTo(-32768);
            assertThat(row.get("i8").asLong()).as("int8").isEqualTo(Long.MAX_VALUE);
            assertThat(row.get("f4").decimalValue()).as("float4").isEqualByComparingTo("1.5");
            assertThat(row.get("f8").decimalValue()).as("float8").isEqualByComparingTo("0.1");
            assertThat(row.get("nan").asText()).as("NaN as a string").isEqualTo("NaN");
            assertThat(row.get("num").isNumber()).as("numeric is a number").isTrue();
            assertThat(row.get("num").decimalValue())
                    .as("numeric without loss")
                    .isEqualTo(new BigDecimal("12345678901234567890.123456789012345678"));
            assertThat(row.get("b").isBoolean()).as("bool").isTrue();
            assertThat(row.get("txt").asText()).as("text").isEqualTo("h\u00e9llo \"q\"");
            assertThat(events.get(0).payloadAsString())
                    .as("json nested verbatim")
                    .contains("\"j\":{\"a\": [1, 2.50]}");
            assertThat(row.get("jb").get("b").get("c").isNull())
                    .as("jsonb nested")
                    .isTrue();
            assertThat(row.get("ts").asText()).as("timestamp").isEqualTo("2026-11-22T03:04:05.123456");
            assertThat(row.get("tstz").asText()).as("timestamptz in UTC").isEqualTo("2026-11-22T01:04:05.500Z");
            assertThat(row.get("d").asText()).as("date").isEqualTo("2026-11-22");
            assertThat(Base64.getDecoder().decode(row.get("by").asText()))
                    .as("bytea as base64")
                    .containsExactly(0x00, 0xff, 0x10);
            assertThat(row.get("ai").toString()).as("int[][]").isEqualTo("[[1,2],[3,null]]");
            assertThat(row.get("at").toString()).as("text[]").isEqualTo("[\"a b\",\"c\",\"q\\\"x\",null]");
            assertThat(row.has("an") && row.get("an").isNull()).as("SQL NULL").isTrue();
            assertThat(row.get("u").asText()).as("uuid").isEqualTo("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");

            JsonNode update = WalFixture.json(events.get(1));
            assertThat(update.get("op").asText()).as("op").isEqualTo("update");
            assertThat(update.get("new").get("txt").asText()).as("new text").isEqualTo("changed");
            assertThat(update.get("new").get("b").asBoolean()).as("new bool").isFalse();
            assertThat(update.get("key").toString()).as("key from the new row").isEqualTo("{\"id\":1}");
            assertThat(update.has("old"))
                    .as("no old row without REPLICA IDENTITY FULL")
                    .isFalse();
            assertThat(update.get("lsn").asText())
                    .as("same txn, same lsn")
                    .isEqualTo(insert.get("lsn").asText());
            assertThat(events.get(0).id())
                    .as("id = commit lsn : ordinal")
                    .isEqualTo(insert.get("lsn").asText() + ":0");
            assertThat(events.get(1).id())
                    .as("second change of the txn")
                    .isEqualTo(insert.get("lsn").asText() + ":1");
            assertThat(events.get(1).position())
                    .as("position = commit lsn")
                    .isEqualTo(LogSequenceNumber.valueOf(insert.get("lsn").asText())
                            .asLong());

            JsonNode delete = WalFixture.json(events.get(2));
            assertThat(delete.get("op").asText()).as("op").isEqualTo("delete");
            assertThat(delete.get("key").toString()).as("key").isEqualTo("{\"id\":1}");
            assertThat(delete.has("new")).as("no new row").isFalse();

            JsonNode truncate = WalFixture.json(events.get(3));
            assertThat(truncate.get("op").asText()).as("op").isEqualTo("truncate");
            assertThat(truncate.get("table").asText()).as("table").isEqualTo("typed");
            assertThat(truncate.get("cascade").asBoolean()).as("cascade").isFalse();

            JsonNode message = WalFixture.json(events.get(4));
            assertThat(message.get("op").asText()).as("op").isEqualTo("message");
            assertThat(message.get("prefix").asText()).as("prefix").isEqualTo(t);
            assertThat(message.get("content").asText()).as("content").isEqualTo("in a txn");
            assertThat(message.get("transactional").asBoolean())
                    .as("transactional")
                    .isTrue();
            assertThat(events).extracting(Event::channel).as("channel").containsOnly(t);
            assertThat(events).extracting(Event::source).as("source").containsOnly("wal");
        }
    }

    @Test
    void unchangedToastedColumnIsMarkedNeverNull() throws Exception {
        String t = db.schema + ".toasty";
        String full = db.schema + ".toasty_full";
        db.exec(
                "CREATE TABLE " + t + " (id int PRIMARY KEY, big text, n int)",
                "CREATE TABLE " + full + " (id int PRIMARY KEY, big text, n int)",
                "ALTER TABLE " + full + " REPLICA IDENTITY FULL");
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge =
                db.bridge(t + "->queue:a, " + full + "->queue:b", sink).build()) {
            bridge.start();
            String big = "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 1000))";
            db.exec(
                    "INSERT INTO " + t + " VALUES (1, " + big + ", 0)",
                    "INSERT INTO " + full + " VALUES (1, " + big + ", 0)",
                    "UPDATE " + t + " SET n = 1",
                    "UPDATE " + full + " SET n = 1");
            List<Event> events = sink.await(4, Duration.ofSeconds(30));
            // two routes, two lanes: each in commit order, interleaved in any order
            List<Event> onT = events.stream().filter(e -> e.channel().equals(t)).toList();
            List<Event> onFull =
                    events.stream().filter(e -> e.channel().equals(full)).toList();

            JsonNode inserted = WalFixture.json(onT.get(0)).get("new");
            JsonNode update = WalFixture.json(onT.get(1));
            assertThat(update.get("new").get("n").asInt()).as("changed column").isEqualTo(1);
            assertThat(update.get("new").has("big"))
                    .as("unchanged TOASTed column is not given as null")
                    .isFalse();
            assertThat(update.get("unchanged").toString())
                    .as("marked explicitly")
                    .isEqualTo("[\"big\"]");
            assertThat(inserted.get("big").asText()).as("inserted value").hasSize(32_000);

            JsonNode updateFull = WalFixture.json(onFull.get(1));
            assertThat(updateFull.get("new").get("big").asText())
                    .as("REPLICA IDENTITY FULL: value taken from the old row")
                    .isEqualTo(
                            WalFixture.json(onFull.get(0)).get("new").get("big").asText());
            assertThat(updateFull.has("unchanged")).as("nothing missing").isFalse();
            assertThat(updateFull.get("old").get("n").asInt()).as("old row").isZero();
        }
    }
}
