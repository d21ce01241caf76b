package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgbridge.ConfigurationException;
import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.Target;
import io.pgbridge.sinktck.FrozenPath;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What is MQTT's own beyond the kit: the seed's topic convention, topic rules, the size limit. */
class MqttSinkIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** The seed's own environment, unchanged: PGPROXY_LOCAL-UPSTREAM=mqtt, a tcp:// URI, BRIDGE_CHANNELS. */
    @Test
    void notifyWithARoutingKeyReachesTheSeedsTopicConfiguredByTheSeedsEnvironment() throws Exception {
        String channel =
                "pgb_mqtt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        Map<String, String> env = Map.of(
                "PGPROXY_LOCAL-POSTGRESQL_URI",
                TestServices.postgresUrl(),
                "PGPROXY_LOCAL-UPSTREAM",
                "mqtt",
                "PGPROXY_LOCAL-UPSTREAM_CONFIG-URI",
                TestServices.mqttUrl().replace("mqtt://", "tcp://"),
                "PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS",
                channel + "->topic:" + channel);
        try (MqttReceiver subscriber = new MqttReceiver(channel + ".signup");
                PgBridge bridge =
                        PgBridgeConfig.fromEnvironment(env).toBuilder().build();
                Connection db = TestServices.postgresConnection();
                Statement sql = db.createStatement()) {
            bridge.start();

            sql.execute("NOTIFY " + channel + ", 'signup|A new user signup'");

            await().atMost(WAIT).until(() -> !subscriber.received().isEmpty());
            assertThat(new String(subscriber.received().get(0).payload(), StandardCharsets.UTF_8))
                    .as("message on topic %s.signup", channel)
                    .isEqualTo("A new user signup");
            assertThat(subscriber.received().get(0).headers())
                    .as("user properties")
                    .containsEntry(MqttSink.CHANNEL_PROPERTY, channel)
                    .containsKey(MqttSink.EVENT_ID_PROPERTY);
        }
    }

    /**
     * QoS 1 flows lost on a frozen path: with the client's default 60 s keep alive the route retried them until the
     * broker ended the silent connection, some 90 s (found by pgbridge-chaos, seed 369138520339832187); the sink's 10 s
     * keep alive leaves the path within 20 s.
     */
    @Test
    void aRouteDeliversAgainAfterItsNetworkPathToTheBrokerFroze() throws Exception {
        String topic = "pgbridge-it/frozen/" + UUID.randomUUID();
        try (MqttReceiver receiver = new MqttReceiver(topic)) {
            FrozenPath.assertRouteDeliversAgainAfterItsPathFroze(
                    TestServices.mqttUrl(),
                    "topic:" + topic,
                    Map.of("PGBRIDGE_MQTT_QOS", "1", "PGBRIDGE_MQTT_PUBLISH_TIMEOUT_MS", "5000"),
                    receiver);
        }
    }

    @Test
    void theTopicSeparatorIsConfigurable() throws Exception {
        String topic = "pgbridge-it/" + UUID.randomUUID();
        try (MqttReceiver subscriber = new MqttReceiver(topic + "/signup");
                Sink sink = sink(Map.of("mqtt.topic-separator", "/"))) {
            sink.start();

            PublishResult result = sink.publish(Target.topic(topic), List.of(event("hello", "signup")));

            assertThat(result.confirmed()).as("confirmed (%s)", result).isEqualTo(1);
            await().atMost(WAIT).until(() -> subscriber.received().size() == 1);
        }
    }

    @Test
    void topicsThatCannotBePublishedToAreRejectedByBuild() {
        PgBridge.Builder builder = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.mqttUrl())
                .routes("a->topic:sensors/+/temp, b->topic:sensors/#, c->topic:$SYS/broker")
                .route("d", Target.topic("nul\0inside"));

        assertThatThrownBy(builder::build)
                .isInstanceOf(ConfigurationException.class)
                .satisfies(e -> assertThat(((ConfigurationException) e).problems())
                        .as("one problem per topic")
                        .hasSize(4)
                        .anySatisfy(p -> assertThat(p).contains("sensors/+/temp", "wildcard"))
                        .anySatisfy(p -> assertThat(p).contains("sensors/#", "wildcard"))
                        .anySatisfy(p -> assertThat(p).contains("$SYS/broker", "starts with $"))
                        .anySatisfy(p -> assertThat(p).contains("U+0000")));
    }

    @Test
    void aPayloadOverTheSizeLimitIsRefusedForGoodWithBothSizesNamed() throws Exception {
        Target target = Target.topic("pgbridge-it/" + UUID.randomUUID());
        try (MqttReceiver subscriber = new MqttReceiver(target.name());
                Sink sink = sink(Map.of("mqtt.max-message-bytes", "1000"))) {
            sink.start();
            List<Event> events = List.of(event("small", null), event("x".repeat(2000), null), event("after", null));

            PublishResult result = sink.publish(target, events);

            assertThat(result.confirmed()).as("events before the large one").isEqualTo(1);
            assertThat(result.isPermanent()).as("refused for good (%s)", result).isTrue();
            assertThat(result.reason()).contains("2000 bytes", "PGBRIDGE_MQTT_MAX_MESSAGE_BYTES=1000");
            assertThat(sink.publish(target, events.subList(2, 3)).confirmed())
                    .as("the lane moves on")
                    .isEqualTo(1);
            await().atMost(WAIT).until(() -> subscriber.received().size() == 2);
        }
    }

    private static Sink sink(Map<String, String> settings) {
        return new MqttSinkProvider().create(SinkCompatibilityKit.sinkConfig(TestServices.mqttUrl(), settings));
    }

    private static Event event(String payload, String routingKey) {
        return Event.builder()
                .id(UUID.randomUUID().toString())
                .source("test")
                .channel("mqtt_it")
                .routingKey(routingKey)
                .payload(payload)
                .build();
    }
}
