package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What the Kafka sink does with missing topics and with a record the broker can never take. */
class KafkaSinkIT {

    private static Sink sink() {
        return new KafkaSinkProvider()
                .create(SinkCompatibilityKit.sinkConfig(
                        TestServices.kafkaUrl(),
                        Map.of("kafka.delivery-timeout-ms", "3000", "kafka.connect-timeout-ms", "5000")));
    }

    @Test
    void startFailsNamingEveryRouteTopicThatDoesNotExist() {
        String missing = "pgbridge-missing-" + UUID.randomUUID();
        try (Sink sink = sink()) {
            assertThat(sink.validateTarget(Target.topic(missing))).isEmpty();
            assertThatThrownBy(sink::start)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("topic '" + missing + "' does not exist")
                    .hasMessageContaining("PGBRIDGE_KAFKA_AUTO_CREATE_TOPICS");
        }
    }

    @Test
    void aTopicFirstSeenAtPublishIsCheckedThen() throws Exception {
        try (Sink sink = sink()) {
            sink.start();
            PublishResult result = sink.publish(Target.topic("pgbridge-missing-" + UUID.randomUUID()), events(1, 0));
            assertThat(result.confirmed()).isZero();
            assertThat(result.isPermanent())
                    .as("retried: the topic may be created")
                    .isFalse();
            assertThat(result.reason()).contains("does not exist");
        }
    }

    @Test
    void aRecordTooLargeAmongManyIsRefusedForGoodAfterTheOnesBeforeItAreConfirmed() throws Exception {
        String topic = "pgbridge-large-" + UUID.randomUUID();
        KafkaTopics.create(topic, 1);
        try (Sink sink = sink()) {
            sink.start();
            List<Event> batch = events(10, 2 * 1024 * 1024);
            PublishResult result = sink.publish(Target.topic(topic), batch);
            assertThat(result.confirmed())
                    .as("confirmed before the large one (%s)", result)
                    .isEqualTo(5);
            assertThat(result.isPermanent())
                    .as("the large one goes to the dead-letter handler")
                    .isTrue();
            assertThat(result.reason()).contains("RecordTooLargeException");
            PublishResult rest = sink.publish(Target.topic(topic), batch.subList(6, 10));
            assertThat(rest.confirmed()).as("the lane moves on").isEqualTo(4);
            assertThat(KafkaTopics.readAll(topic, 1, 9)).hasSize(9);
        } finally {
            KafkaTopics.delete(topic);
        }
    }

    @Test
    void targetExistsAsksTheClusterWithoutCreatingTheTopic() throws Exception {
        String topic = "pgbridge-exists-" + UUID.randomUUID();
        String missing = "pgbridge-missing-" + UUID.randomUUID();
        KafkaTopics.create(topic, 1);
        try (Sink sink = sink()) {
            sink.start();
            assertThat(sink.targetExists(Target.topic(topic))).isEqualTo(Sink.Existence.EXISTS);
            assertThat(sink.targetExists(Target.topic(missing))).isEqualTo(Sink.Existence.MISSING);
            assertThat(sink.targetExists(Target.topic(missing)))
                    .as("asking did not create it")
                    .isEqualTo(Sink.Existence.MISSING);
        } finally {
            KafkaTopics.delete(topic);
        }
        try (Sink sink = new KafkaSink(KafkaSinkConfig.builder()
                .uri(TestServices.kafkaUrl())
                .autoCreateTopics(true)
                .build())) {
            sink.start();
            assertThat(sink.targetExists(Target.topic(missing)))
                    .as("the broker may create it on first use: a client cannot tell")
                    .isEqualTo(Sink.Existence.CANNOT_CHECK);
        }
    }

    /** {@code count} small events; the one at index 5 has {@code largeBytes} of payload when that is not 0. */
    private static List<Event> events(int count, int largeBytes) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] payload =
                    i == 5 && largeBytes > 0 ? new byte[largeBytes] : ("event-" + i).getBytes(StandardCharsets.UTF_8);
            events.add(Event.builder()
                    .id(UUID.randomUUID().toString())
                    .source("test")
                    .channel("c")
                    .payload(payload)
                    .build());
        }
        return events;
    }
}
