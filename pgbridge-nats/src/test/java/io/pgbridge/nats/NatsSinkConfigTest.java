package io.pgbridge.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nats.client.Options;
import io.pgbridge.ConfigurationException;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class NatsSinkConfigTest {

    private static NatsSinkConfig config(String uri, Map<String, String> settings) {
        return NatsSinkConfig.from(SinkCompatibilityKit.sinkConfig(uri, settings));
    }

    @Test
    void readsSeveralServersWithTheDefaultPortAndTheDefaults() {
        NatsSinkConfig c = config("nats://n1,n2:4333", Map.of());
        assertThat(c.endpoint()).isEqualTo("nats://n1:4222,nats://n2:4333");
        assertThat(c.publishTimeout().toMillis()).isEqualTo(30_000);
        assertThat(c.coreSubjects()).as("core subjects are opt-in").isFalse();
        Options options = c.options(Executors.defaultThreadFactory());
        assertThat(options.getMaxReconnect())
                .as("reconnects without end once connected")
                .isEqualTo(-1);
        assertThat(options.getConnectionName()).isEqualTo("pgbridge");
    }

    @Test
    void credentialsNeverShow() {
        NatsSinkConfig c = config("nats://app:s%40cret@n1:4222", Map.of());
        assertThat(c.toString()).contains("app").doesNotContain("s@cret", "cret");
        assertThat(new String(c.options(Executors.defaultThreadFactory()).getPassword()))
                .isEqualTo("s@cret");
        NatsSinkConfig token = config("nats://t0ken-value@n1", Map.of());
        assertThat(token.toString()).contains("with a token").doesNotContain("t0ken-value");
    }

    @Test
    void reportsEveryProblemWithoutThePassword() {
        assertThatThrownBy(() -> config(
                        "nats://u:hunter2@good,bad_host:x",
                        Map.of("nats.publish-timeout-ms", "0", "nats.core-subjects", "maybe")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageNotContaining("hunter2")
                .hasMessageContaining("PGBRIDGE_NATS_PUBLISH_TIMEOUT_MS")
                .hasMessageContaining("PGBRIDGE_NATS_CORE_SUBJECTS")
                .hasMessageContaining("'bad_host:x'");
        assertThatThrownBy(() -> config("redis://host", Map.of()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("nats://");
    }

    @Test
    void refusesSubjectsWithWildcards() {
        NatsSink sink =
                (NatsSink) new NatsSinkProvider().create(SinkCompatibilityKit.sinkConfig("nats://n1", Map.of()));
        assertThat(sink.validateTarget(io.pgbridge.Target.of("subject", "orders.*")))
                .hasSize(1);
        assertThat(sink.validateTarget(io.pgbridge.Target.of("subject", "orders..x")))
                .hasSize(1);
        assertThat(sink.validateTarget(io.pgbridge.Target.of("subject", "orders.created")))
                .isEmpty();
    }

    @Test
    void aConfigBuiltInCodeIsCheckedAsTheSettingsAre() {
        NatsSinkConfig c = NatsSinkConfig.builder()
                .uri("tls://n1,n2:4333")
                .credentials("app", "topsecret")
                .publishTimeout(Duration.ofSeconds(5))
                .coreSubjects(true)
                .build();
        assertThat(c.endpoint()).isEqualTo("tls://n1:4222,tls://n2:4333");
        assertThat(c.publishTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.coreSubjects()).isTrue();
        assertThat(c.toString()).contains("app").doesNotContain("topsecret");
        assertThat(new NatsSink(c).name()).isEqualTo("nats");
        assertThat(NatsSinkConfig.builder().uri("nats://n1").build().toString())
                .as("the builder's defaults are the settings' defaults")
                .isEqualTo(config("nats://n1", Map.of()).toString());

        assertThatThrownBy(() -> NatsSinkConfig.builder().reconnectWait(Duration.ofMillis(1)))
                .hasMessage("reconnectWait must be PT0.01S to PT1H, was PT0.001S");
        assertThatThrownBy(() -> NatsSinkConfig.builder()
                        .uri("nats://u:hunter2@good,bad_host:x/path")
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("every problem together, the password redacted")
                        .hasSize(2)
                        .anySatisfy(p -> assertThat(p).contains("no path"))
                        .anySatisfy(p -> assertThat(p).contains("'bad_host:x'"))
                        .noneSatisfy(p -> assertThat(p).contains("hunter2")));
    }
}
