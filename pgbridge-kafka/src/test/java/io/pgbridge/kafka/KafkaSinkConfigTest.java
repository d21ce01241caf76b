package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaSinkConfigTest {

    private static KafkaSinkConfig config(String uri, Map<String, String> settings) {
        return KafkaSinkConfig.from(SinkCompatibilityKit.sinkConfig(uri, settings));
    }

    @Test
    void readsSeveralBootstrapServersWithTheDefaultPort() {
        KafkaSinkConfig c = config("kafka://k1:9093,k2,10.0.0.3:9094", Map.of());
        assertThat(c.bootstrapServers()).isEqualTo("k1:9093,k2:9092,10.0.0.3:9094");
        assertThat(c.producerProperties())
                .as("an idempotent producer with the defaults")
                .containsEntry("acks", "all")
                .containsEntry("enable.idempotence", true)
                .containsEntry("security.protocol", "PLAINTEXT")
                .containsEntry("compression.type", "lz4")
                .containsEntry("linger.ms", 5)
                .containsEntry("batch.size", 65_536)
                .containsEntry("delivery.timeout.ms", 30_000)
                .containsEntry("request.timeout.ms", 29_995)
                .containsEntry("client.id", "pgbridge");
    }

    @Test
    void credentialsTurnOnSaslAndNeverShowThePassword() {
        KafkaSinkConfig c = config(
                "kafkas://app:s%40cret%22pw@broker:9093",
                Map.of("kafka.sasl-mechanism", "scram-sha-512", "kafka.compression", "zstd"));
        Map<String, Object> p = c.producerProperties();
        assertThat(p)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("compression.type", "zstd");
        assertThat((String) p.get("sasl.jaas.config"))
                .as("JAAS config, quotes escaped")
                .isEqualTo("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"app\" "
                        + "password=\"s@cret\\\"pw\";");
        assertThat(c.toString()).contains("kafkas://broker:9093", "app").doesNotContain("s@cret", "cret");
    }

    @Test
    void credentialsMayComeFromTheUpstreamSettings() {
        KafkaSinkConfig c =
                config("kafka://broker", Map.of("upstream.username", "u", "upstream.password", "p4ss-word"));
        assertThat(c.producerProperties()).containsEntry("security.protocol", "SASL_PLAINTEXT");
        assertThat(c.toString()).doesNotContain("p4ss-word");
    }

    @Test
    void reportsEveryProblemAtOnceWithoutThePassword() {
        assertThatThrownBy(() -> config(
                        "kafka://u:hunter2@good:9092,bad_host:x",
                        Map.of(
                                "kafka.compression",
                                "brotli",
                                "kafka.sasl-mechanism",
                                "GSSAPI",
                                "kafka.linger-ms",
                                "-1")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageNotContaining("hunter2")
                .satisfies(e -> assertThat(((ConfigurationException) e).problems())
                        .as("problems")
                        .anySatisfy(p -> assertThat(p).contains("PGBRIDGE_KAFKA_COMPRESSION", "brotli"))
                        .anySatisfy(p -> assertThat(p).contains("PGBRIDGE_KAFKA_SASL_MECHANISM", "GSSAPI"))
                        .anySatisfy(p -> assertThat(p).contains("PGBRIDGE_KAFKA_LINGER_MS"))
                        .anySatisfy(p -> assertThat(p).contains("'bad_host:x'", "not host[:port]")));
    }

    @Test
    void refusesOtherSchemesAndAUserWithoutPassword() {
        assertThatThrownBy(() -> config("amqp://broker", Map.of()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("kafka://");
        assertThatThrownBy(() -> config("kafka://onlyuser@broker", Map.of()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("both a user and a password");
        assertThatThrownBy(() -> config("kafka://broker/path", Map.of()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("no path");
    }

    @Test
    void aConfigBuiltInCodeIsCheckedAsTheSettingsAre() {
        KafkaSinkConfig c = KafkaSinkConfig.builder()
                .uri("kafkas://k1:9093,k2")
                .credentials("app", "topsecret")
                .saslMechanism("scram-sha-256")
                .compression("zstd")
                .linger(Duration.ZERO)
                .deliveryTimeout(Duration.ofSeconds(60))
                .build();
        assertThat(c.bootstrapServers()).isEqualTo("k1:9093,k2:9092");
        assertThat(c.producerProperties())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-256")
                .containsEntry("compression.type", "zstd")
                .containsEntry("linger.ms", 0)
                .containsEntry("delivery.timeout.ms", 60_000);
        assertThat(c.toString()).doesNotContain("topsecret");
        assertThat(new KafkaSink(c).name()).isEqualTo("kafka");
        assertThat(KafkaSinkConfig.builder().uri("kafka://k").build().producerProperties())
                .as("the builder's defaults are the settings' defaults")
                .isEqualTo(config("kafka://k", Map.of()).producerProperties());

        assertThatThrownBy(() -> KafkaSinkConfig.builder().deliveryTimeout(Duration.ofMillis(10)))
                .hasMessage("deliveryTimeout must be PT1S to PT1H, was PT0.01S");
        assertThatThrownBy(() -> KafkaSinkConfig.builder()
                        .uri("kafka://onlyuser:hunter2@good,bad_host:x/path")
                        .compression("brotli")
                        .saslMechanism("GSSAPI")
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("every problem together, the password redacted")
                        .hasSize(4)
                        .anySatisfy(p -> assertThat(p).contains("brotli"))
                        .anySatisfy(p -> assertThat(p).contains("GSSAPI"))
                        .anySatisfy(p -> assertThat(p).contains("no path"))
                        .anySatisfy(p -> assertThat(p).contains("'bad_host:x'"))
                        .noneSatisfy(p -> assertThat(p).contains("hunter2")));
    }
}
