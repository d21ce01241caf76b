package io.pgbridge.kafka;

import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.Map;
import java.util.UUID;

/** The sink contract for Kafka, against the test broker (a topic of one partition per test). */
class KafkaSinkCompatibilityIT extends BrokerSinkCompatibilityKit {

    @Override
    protected Sink createSink(String uri) {
        return new KafkaSinkProvider()
                .create(sinkConfig(
                        uri, Map.of("kafka.delivery-timeout-ms", "3000", "kafka.connect-timeout-ms", "5000")));
    }

    @Override
    protected String brokerUri() {
        return TestServices.kafkaUrl();
    }

    @Override
    protected Target newTarget() {
        String topic = "pgbridge-kit-" + UUID.randomUUID();
        try {
            KafkaTopics.create(topic, 1);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + topic, e);
        }
        return Target.topic(topic);
    }

    @Override
    protected Receiver receiver(Target target) {
        return new KafkaReceiver(target.name());
    }

    @Override
    protected TestServices.Service service() {
        return TestServices.Service.KAFKA;
    }

    @Override
    protected void deleteTarget(Target target) throws Exception {
        KafkaTopics.delete(target.name());
    }
}
