package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MqttConfigTest {

    private static MqttConfig config(String uri, Map<String, String> settings) {
        return MqttConfig.from(SinkCompatibilityKit.sinkConfig(uri, settings));
    }

    @Test
    void readsTheSeedsTcpUriAndDefaults() {
        MqttConfig c = config("tcp://mosquitto", Map.of());

        assertThat(c.endpoint()).isEqualTo("mqtt://mosquitto:1883");
        assertThat(c.mqtt5).as("MQTT 5 by default").isTrue();
        assertThat(c.qos).as("QoS").isEqualTo(1);
        assertThat(c.topicSeparator).as("separator").isEqualTo(".");
        assertThat(c.cleanSession).as("clean session").isTrue();
        assertThat(c.clientId).startsWith("pgbridge-");
    }

    @Test
    void mqttsUsesTlsOnPort8883AndCredentialsFromTheUri() {
        MqttConfig c = config("mqtts://bridge:p%40ss@broker.example", Map.of("upstream.username", "ignored"));

        assertThat(c.tls).isTrue();
        assertThat(c.port).isEqualTo(8883);
        assertThat(c.username).isEqualTo("bridge");
        assertThat(c.password.reveal()).isEqualTo("p@ss");
        assertThat(c.toString()).doesNotContain("p@ss", "p%40ss");
    }

    @Test
    void takesCredentialsFromTheUpstreamSettings() {
        MqttConfig c = config(
                "mqtt://broker",
                Map.of("upstream.username", "u", "upstream.password", "pw", "mqtt.protocol-version", "3.1.1"));

        assertThat(c.username).isEqualTo("u");
        assertThat(c.password.reveal()).isEqualTo("pw");
        assertThat(c.mqtt5).isFalse();
    }

    @Test
    void reportsEveryBadSettingAtOnceWithoutThePassword() {
        assertThatThrownBy(() -> config(
                        "mqtt://:hunter2@broker/path",
                        Map.of("mqtt.protocol-version", "4", "mqtt.topic-separator", "+")))
                .isInstanceOf(ConfigurationException.class)
                .satisfies(e -> assertThat(((ConfigurationException) e).problems())
                        .hasSize(4)
                        .anySatisfy(p -> assertThat(p).contains("PGBRIDGE_MQTT_PROTOCOL_VERSION='4'", "5 or 3.1.1"))
                        .anySatisfy(p -> assertThat(p).contains("PGBRIDGE_MQTT_TOPIC_SEPARATOR='+'"))
                        .anySatisfy(p -> assertThat(p).contains("no path"))
                        .anySatisfy(p -> assertThat(p).contains("needs a username")))
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void rejectsQosOutsideZeroToTwo() {
        assertThatThrownBy(() -> config("mqtt://broker", Map.of("mqtt.qos", "3")))
                .hasMessageContaining("PGBRIDGE_MQTT_QOS='3'");
    }

    @Test
    void refusesQos2WithMqtt311WhoseClientConfirmsAtPubrec() {
        assertThatThrownBy(() -> config("mqtt://broker", Map.of("mqtt.qos", "2", "mqtt.protocol-version", "3.1.1")))
                .hasMessageContaining("PGBRIDGE_MQTT_QOS='2'")
                .hasMessageContaining("needs MQTT 5");
    }

    @Test
    void topicRules() {
        assertThat(MqttSink.topicProblem("")).contains("empty");
        assertThat(MqttSink.topicProblem("a/+/b")).contains("wildcard");
        assertThat(MqttSink.topicProblem("a/#")).contains("wildcard");
        assertThat(MqttSink.topicProblem("a\0b")).contains("U+0000");
        assertThat(MqttSink.topicProblem("$SYS/x")).contains("$");
        assertThat(MqttSink.topicProblem("é".repeat(40_000))).contains("65535");
        assertThat(MqttSink.topicProblem("events/signup")).isNull();
        assertThat(MqttSink.topicProblem("events.signup")).isNull();
    }

    @Test
    void aConfigBuiltInCodeIsCheckedAsTheSettingsAre() {
        MqttConfig c = MqttConfig.builder()
                .uri("mqtts://broker.example")
                .credentials("app", "topsecret")
                .qos(2)
                .retain(true)
                .build();
        assertThat(c.port).isEqualTo(8883);
        assertThat(c.username).isEqualTo("app");
        assertThat(c.qos).isEqualTo(2);
        assertThat(c.retain).isTrue();
        assertThat(c.toString()).doesNotContain("topsecret");
        assertThat(new MqttSink(c).name()).isEqualTo("mqtt");

        assertThatThrownBy(() -> MqttConfig.builder().qos(3)).hasMessage("qos must be 0, 1 or 2, was 3");
        assertThatThrownBy(() -> MqttConfig.builder()
                        .uri("mqtt://u:secret@h/path")
                        .protocolVersion("3.1.1")
                        .qos(2)
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("path and QoS 2 on 3.1.1, together, password redacted")
                        .hasSize(2)
                        .noneSatisfy(p -> assertThat(p).contains("secret")));
    }
}
