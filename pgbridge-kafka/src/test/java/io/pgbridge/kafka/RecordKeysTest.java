package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The record key: every change of one row shares one key; other events are keyed by their routing key. */
class RecordKeysTest {

    /**
     * The invariant: a WAL change's record key is its {@code key} object's bytes, whatever the op, the fields around
     * it and the row's other values, so the insert, update and delete of one row land in one partition.
     */
    @Property(tries = 300)
    void everyChangeOfOneRowHasTheSameKey(
            @ForAll("keys") String key,
            @ForAll("rows") String rowBefore,
            @ForAll("rows") String rowAfter,
            @ForAll("ops") String op) {
        String insert = "{\"op\":\"insert\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/1\",\"xid\":1,"
                + "\"commitTime\":\"2026-11-22T03:04:05Z\",\"new\":" + rowBefore + ",\"key\":" + key + "}";
        String later = "{\"op\":\"" + op + "\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/2\",\"xid\":2,"
                + "\"commitTime\":\"2026-11-22T03:04:06Z\""
                + (op.equals("update") ? ",\"new\":" + rowAfter : "")
                + ",\"key\":" + key + (op.equals("update") ? ",\"unchanged\":[\"key\"]" : "") + "}";

        assertThat(utf8(RecordKeys.key(wal(insert)))).as("insert's key").isEqualTo(key);
        assertThat(utf8(RecordKeys.key(wal(later)))).as(op + "'s key").isEqualTo(key);
    }

    @Provide
    Arbitrary<String> keys() {
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.integers().map(String::valueOf),
                Arbitraries.strings().ofMaxLength(12).map(RecordKeysTest::jsonString),
                Arbitraries.of("null", "true", "{\"key\":[1,{\"a\":\"}\"}]}", "[\"key\",\"{\"]"));
        Arbitrary<String> name = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6);
        return Combinators.combine(name, value, name, value)
                .as((n1, v1, n2, v2) -> "{" + jsonString(n1) + ":" + v1 + "," + jsonString(n2 + "2") + ":" + v2 + "}");
    }

    @Provide
    Arbitrary<String> rows() {
        return keys().map(k -> k.substring(0, k.length() - 1) + ",\"key\":" + k + ",\"note\":\"{key}\"}");
    }

    @Provide
    Arbitrary<String> ops() {
        return Arbitraries.of("update", "delete");
    }

    @Property(tries = 100)
    void otherEventsAreKeyedByTheirRoutingKey(@ForAll @AlphaChars @StringLength(min = 1, max = 20) String routingKey) {
        Event event = Event.builder()
                .id("1")
                .source("outbox")
                .channel("c")
                .routingKey(routingKey)
                .payload("{\"key\":{\"id\":1}}")
                .build();
        assertThat(utf8(RecordKeys.key(event))).isEqualTo(routingKey);
    }

    @Test
    void keylessChangesAreKeyedByTheirTableAndOtherEventsWithoutRoutingKeyHaveNoKey() {
        Event truncate = wal("{\"op\":\"truncate\",\"schema\":\"s\",\"table\":\"t\",\"cascade\":false}");
        assertThat(utf8(RecordKeys.key(truncate))).as("a change without key").isEqualTo("s.t");
        Event notJson = Event.builder()
                .id("1")
                .source("wal")
                .channel("s.t")
                .payload("x")
                .build();
        assertThat(utf8(RecordKeys.key(notJson)))
                .as("a payload that is not JSON")
                .isEqualTo("s.t");
        Event notify = Event.builder()
                .id("1")
                .source("notify")
                .channel("c")
                .payload("m")
                .build();
        assertThat(RecordKeys.key(notify)).as("no routing key").isNull();
    }

    private static Event wal(String payload) {
        return Event.builder()
                .id("0/1:0")
                .source("wal")
                .channel("s.t")
                .payload(payload)
                .build();
    }

    private static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private static String utf8(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
