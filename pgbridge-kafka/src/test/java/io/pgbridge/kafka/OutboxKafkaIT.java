package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The outbox to Kafka with the broker stopped for a while under a steady stream of {@code pgbridge.send}: every
 * committed event arrives afterwards, first deliveries in commit order, keyed by its routing key and carrying its
 * trace context header.
 */
class OutboxKafkaIT {
    private OutboxOutage outbox;
    private String topic;

    @BeforeEach
    void setUp() throws Exception {
        outbox = OutboxOutage.install("pgb_kafka_");
        topic = outbox.schema() + "_t";
        KafkaTopics.create(topic, 1);
    }

    @AfterEach
    void cleanUp() throws Exception {
        KafkaTopics.delete(topic);
        outbox.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"streaming", "polling"})
    void kafkaStoppedUnderASteadyStreamLosesNothingAndKeepsCommitOrder(String mode) throws Exception {
        try (PgBridge bridge = outbox.builder(TestServices.kafkaUrl(), "events->topic:" + topic, mode)
                .setting("kafka.delivery-timeout-ms", "3000")
                .setting("kafka.connect-timeout-ms", "5000")
                .build()) {
            bridge.start();
            outbox.sendThroughAnOutage(bridge, TestServices.Service.KAFKA);
        }

        Map<String, Integer> firstBySeq = new LinkedHashMap<>();
        List<ConsumerRecord<byte[], byte[]>> records = KafkaTopics.readAll(topic, 1, OutboxOutage.TOTAL);
        for (ConsumerRecord<byte[], byte[]> r : records) {
            int seq = OutboxOutage.seq(r.value());
            assertThat(new String(r.key(), StandardCharsets.UTF_8))
                    .as("record key = routing key")
                    .isEqualTo(OutboxOutage.routingKey(seq));
            assertThat(KafkaTopics.header(r, "traceparent"))
                    .as("trace context header")
                    .isEqualTo(OutboxOutage.traceparent(seq));
            firstBySeq.putIfAbsent(KafkaTopics.header(r, KafkaSink.HEADER_EVENT_ID), seq);
        }
        assertThat(new ArrayList<>(firstBySeq.values()))
                .as(
                        "first delivery of every committed event (by event id), in commit order; %d records",
                        records.size())
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, OutboxOutage.TOTAL).boxed().toList());
    }
}
