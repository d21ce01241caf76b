package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.replication.LogSequenceNumber;

/**
 * WAL changes to a Kafka topic of three partitions, with the broker stopped in the middle: the replication slot does
 * not advance past what Kafka has not acknowledged, every change arrives afterwards, and the insert, update and
 * delete of one row share the row's key and so arrive in commit order in one partition.
 */
class WalToKafkaIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PARTITIONS = 3;
    private static final int ROWS = 300;

    private final String name =
            "wal_kafka_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final String table = name + ".orders";
    private java.sql.Connection pg;

    @BeforeEach
    void setUp() throws Exception {
        pg = TestServices.postgresConnection();
        exec("CREATE SCHEMA " + name, "CREATE TABLE " + table + " (id int PRIMARY KEY, state text)");
        KafkaTopics.create(name, PARTITIONS);
    }

    @AfterEach
    void tearDown() throws Exception {
        try (PreparedStatement ps = pg.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM "
                + "pg_replication_slots WHERE slot_name = ? AND NOT active")) {
            ps.setString(1, name);
            ps.execute();
        }
        exec("DROP PUBLICATION IF EXISTS " + name, "DROP SCHEMA " + name + " CASCADE");
        pg.close();
        KafkaTopics.delete(name);
    }

    @Test
    void kafkaStoppedMidStreamLosesNothingAndKeepsEachRowsChangesInOrderUnderItsKey() throws Exception {
        int changes = ROWS + ROWS + ROWS / 2; // inserts, updates, deletes of the even rows
        try (PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.kafkaUrl())
                .routes(table + "->topic:" + name)
                .setting("replication.slot", name)
                .setting("wal.status-interval-ms", "200")
                .setting("kafka.delivery-timeout-ms", "3000")
                .setting("kafka.connect-timeout-ms", "5000")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build()) {
            bridge.start();
            insert(1, 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.stats().delivered() == 100);
            long walAtOutage;
            try {
                TestServices.stop(TestServices.Service.KAFKA);
                walAtOutage = currentWal();
                insert(101, 200);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> bridge.stats().retries() > 0);
                await().during(Duration.ofSeconds(3))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> confirmedFlush() <= walAtOutage);
            } finally {
                TestServices.start(TestServices.Service.KAFKA);
            }
            insert(201, ROWS);
            for (int id = 1; id <= ROWS; id += 50) {
                exec("UPDATE " + table + " SET state = 'paid' WHERE id BETWEEN " + id + " AND " + (id + 49));
            }
            exec("DELETE FROM " + table + " WHERE id % 2 = 0");
            await().atMost(Duration.ofSeconds(90)).until(() -> bridge.stats().delivered() >= changes);
            await().atMost(Duration.ofSeconds(30)).until(() -> confirmedFlush() > walAtOutage);
        }

        List<ConsumerRecord<byte[], byte[]>> records = KafkaTopics.readAll(name, PARTITIONS, changes);
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
                    .isEqualTo(table);
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

    private void insert(int from, int to) throws SQLException {
        for (int id = from; id <= to; id += 10) {
            exec("INSERT INTO " + table + " SELECT g, 'new' FROM generate_series(" + id + ", " + Math.min(to, id + 9)
                    + ") g");
        }
    }

    private long currentWal() throws SQLException {
        try (Statement st = pg.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
        }
    }

    private long confirmedFlush() throws SQLException {
        try (PreparedStatement ps =
                pg.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
            }
        }
    }

    private void exec(String... statements) throws SQLException {
        try (Statement st = pg.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }
}
