package io.pgbridge.kafka;

import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Creates, reads and deletes topics on the test broker ({@link TestServices#kafkaUrl()}). */
final class KafkaTopics {
    private KafkaTopics() {}

    /** {@code host:port,...} of the test broker. */
    static String bootstrapServers() {
        return KafkaSinkConfig.from(
                        io.pgbridge.sinktck.SinkCompatibilityKit.sinkConfig(TestServices.kafkaUrl(), Map.of()))
                .bootstrapServers();
    }

    static void create(String topic, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    static void delete(String topic) throws Exception {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static Admin admin() {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "pgbridge-test-admin");
        return Admin.create(props);
    }

    /** A consumer of every partition of {@code topic} from its beginning, without a group. */
    static KafkaConsumer<byte[], byte[]> consumer(String topic, int partitions) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props);
        List<TopicPartition> all = IntStream.range(0, partitions)
                .mapToObj(p -> new TopicPartition(topic, p))
                .collect(Collectors.toList());
        consumer.assign(all);
        consumer.seekToBeginning(all);
        return consumer;
    }

    /** Every record of {@code topic} so far: polls until {@code expected} records were read (or 60 s passed). */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int partitions, int expected) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(topic, partitions)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int empty = 0;
            while (System.nanoTime() < deadline && (records.size() < expected || empty < 2)) {
                var polled = consumer.poll(Duration.ofMillis(500));
                polled.forEach(records::add);
                empty = polled.isEmpty() ? empty + 1 : 0;
            }
        }
        return records;
    }

    /** A header's value as UTF-8, or {@code null}. */
    static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
