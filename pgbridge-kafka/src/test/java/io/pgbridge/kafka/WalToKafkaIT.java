package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.WalOutage;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * WAL changes to a Kafka topic of three partitions, with the broker stopped in the middle: the replication slot does
 * not advance past what Kafka has not acknowledged, every change arrives afterwards, and the insert, update and
 * delete of one row share the row's key and so arrive in commit order in one partition.
 */
class WalToKafkaIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PARTITIONS = 3;
    private static final int ROWS = WalOutage.ROWS;

    private WalOutage wal;

    @BeforeEach
    void setUp() throws Exception {
        wal = WalOutage.install("wal_kafka_");
        KafkaTopics.create(wal.name(), PARTITIONS);
    }

    @AfterEach
    void tearDown() throws Exception {
        wal.close();
        KafkaTopics.delete(wal.name());
    }

    @Test
    void kafkaStoppedMidStreamLosesNothingAndKeepsEachRowsChangesInOrderUnderItsKey() throws Exception {
        int changes = ROWS + ROWS + ROWS / 2; // inserts, updates, deletes of the even rows
        try (PgBridge bridge = wal.builder(TestServices.kafkaUrl(), "topic:" + wal.name())
                .setting("kafka.delivery-timeout-ms", "3000")
                .setting("kafka.connect-timeout-ms", "5000")
                .build()) {
            bridge.start();
            wal.insertThroughAnOutage(bridge, TestServices.Service.KAFKA);
            for (int id = 1; id <= ROWS; id += 50) {
                wal.exec("UPDATE " + wal.table() + " SET state = 'paid' WHERE id BETWEEN " + id + " AND " + (id + 49));
            }
            wal.exec("DELETE FROM " + wal.table() + " WHERE id % 2 = 0");
            wal.awaitDelivered(bridge, changes);
        }

        List<ConsumerRecord<byte[], byte[]>> records = KafkaTopics.readAll(wal.name(), PARTITIONS, changes);
        Map<Integer, List<String>> opsByRow = new LinkedHashMap<>();
        Set<String> ids = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            JsonNode change = JSON.readTree(r.value());
            int row = change.get("key").get("id").asInt();
            assertThat(new String(r.key(), StandardCharsets.UTF_8))
                    .as("record key of a change of row %d", row)
                    .isEqualTo("{\"id\":" + row + "}");
            assertThat(KafkaTopics.header(r, KafkaSink.HEADER_SOURCE))
                    .as("source header")
                    .isEqualTo("wal");
            assertThat(KafkaTopics.header(r, KafkaSink.HEADER_CHANNEL))
                    .as("channel header")
                    .isEqualTo(wal.table());
            String id = KafkaTopics.header(r, KafkaSink.HEADER_EVENT_ID);
            if (ids.add(id)) { // first delivery; a redelivery after the outage may follow
                opsByRow.computeIfAbsent(row, k -> new ArrayList<>())
                        .add(change.get("op").asText());
            }
        }
        assertThat(ids)
                .as("every change, once or more (%d records)", records.size())
                .hasSize(changes);
        for (int row = 1; row <= ROWS; row++) {
            assertThat(opsByRow.get(row))
                    .as("first deliveries of row %d's changes, in partition order", row)
                    .containsExactlyElementsOf(
                            row % 2 == 0 ? List.of("insert", "update", "delete") : List.of("insert", "update"));
        }
    }
}
