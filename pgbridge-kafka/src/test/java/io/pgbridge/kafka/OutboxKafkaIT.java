package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.PgBridge;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The outbox to Kafka with the broker stopped for a while under a steady stream of {@code pgbridge.send}: every
 * committed event arrives afterwards, first deliveries in commit order, keyed by its routing key and carrying its
 * trace context header.
 */
class OutboxKafkaIT {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Pattern SEQ = Pattern.compile("\"seq\": (\\d+)");
    private static final int TOTAL = 300;

    private final String schema =
            "pgb_kafka_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final String topic = schema + "_t";
    private java.sql.Connection pg;
    private PgBridge bridge;

    @BeforeEach
    void setUp() throws Exception {
        pg = TestServices.postgresConnection();
        java.net.URI uri = java.net.URI.create(TestServices.postgresUrl());
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL("jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath());
        String[] user = uri.getUserInfo().split(":", 2);
        ds.setUser(user[0]);
        if (user.length > 1) {
            ds.setPassword(user[1]);
        }
        PgBridgeSchema.migrate(ds, schema);
        KafkaTopics.create(topic, 1);
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
        KafkaTopics.delete(topic);
        String slot = schema + "_outbox_1";
        await().atMost(WAIT)
                .until(() ->
                        count("select count(*) from pg_replication_slots where slot_name = '" + slot + "' and active")
                                == 0);
        try (Statement st = pg.createStatement()) {
            st.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '" + slot
                    + "'; drop publication if exists " + slot + "; drop schema " + schema + " cascade");
        }
        pg.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"streaming", "polling"})
    void kafkaStoppedUnderASteadyStreamLosesNothingAndKeepsCommitOrder(String mode) throws Exception {
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.kafkaUrl())
                .routes("events->topic:" + topic)
                .source("outbox")
                .setting("outbox.schema", schema)
                .setting("outbox.mode", mode)
                .setting("outbox.replay-after-ms", "300")
                .setting("kafka.delivery-timeout-ms", "3000")
                .setting("kafka.connect-timeout-ms", "5000")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(5))
                .build();
        bridge.start();

        AtomicInteger sent = new AtomicInteger();
        Thread producer = new Thread(() -> {
            try (java.sql.Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                for (int i = 1; i <= TOTAL; i++) {
                    st.execute("select " + schema + ".send('events', '{\"seq\": " + i + "}'::jsonb, 'customer-"
                            + (i % 7) + "', '{\"traceparent\": \"00-" + String.format("%032x", i)
                            + "-00f067aa0ba902b7-01\"}'::jsonb)");
                    sent.set(i);
                    Thread.sleep(10); // a steady stream through the outage
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        producer.start();
        await().atMost(WAIT).until(() -> bridge.stats().delivered() >= 50);
        try {
            TestServices.stop(TestServices.Service.KAFKA);
            int atStop = sent.get();
            await().atMost(WAIT).until(() -> sent.get() >= atStop + 50);
        } finally {
            TestServices.start(TestServices.Service.KAFKA);
        }
        producer.join(WAIT.toMillis());
        assertThat(sent.get()).as("events committed").isEqualTo(TOTAL);
        await().atMost(WAIT).until(() -> bridge.stats().delivered() >= TOTAL);

        Map<String, Integer> firstBySeq = new LinkedHashMap<>();
        List<ConsumerRecord<byte[], byte[]>> records = KafkaTopics.readAll(topic, 1, TOTAL);
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Matcher m = SEQ.matcher(new String(r.value(), StandardCharsets.UTF_8));
            assertThat(m.find()).as("payload holds seq").isTrue();
            int seq = Integer.parseInt(m.group(1));
            assertThat(new String(r.key(), StandardCharsets.UTF_8))
                    .as("record key = routing key")
                    .isEqualTo("customer-" + (seq % 7));
            assertThat(KafkaTopics.header(r, "traceparent"))
                    .as("trace context header")
                    .isEqualTo("00-" + String.format("%032x", seq) + "-00f067aa0ba902b7-01");
            firstBySeq.putIfAbsent(KafkaTopics.header(r, KafkaSink.HEADER_EVENT_ID), seq);
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 1; i <= TOTAL; i++) {
            expected.add(i);
        }
        assertThat(new ArrayList<>(firstBySeq.values()))
                .as(
                        "first delivery of every committed event (by event id), in commit order; %d records",
                        records.size())
                .isEqualTo(expected);
    }

    private long count(String sql) throws SQLException {
        try (Statement st = pg.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
