package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridgeConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class AmqpSinkConfigTest {

    @Test
    void readsHostPortVhostAndCredentialsFromTheUri() {
        AmqpSinkConfig c = TestSinkConfigs.parse("amqp://app:s%40cret@rabbit.example:5673/prod");

        assertThat(c.tls()).as("amqp is plain").isFalse();
        assertThat(c.host()).isEqualTo("rabbit.example");
        assertThat(c.port()).isEqualTo(5673);
        assertThat(c.virtualHost()).isEqualTo("prod");
        assertThat(c.username()).isEqualTo("app");
        assertThat(c.password().reveal()).as("percent-decoded password").isEqualTo("s@cret");
        assertThat(c.deliveryMode()).as("default delivery mode").isEqualTo(AmqpSinkConfig.DEFAULT_DELIVERY_MODE);
        assertThat(c.confirmTimeout()).isEqualTo(AmqpSinkConfig.DEFAULT_CONFIRM_TIMEOUT);
    }

    @Test
    void defaultPortsAndVhosts() {
        assertThat(TestSinkConfigs.parse("amqp://h").port())
                .as("amqp default port")
                .isEqualTo(5672);
        assertThat(TestSinkConfigs.parse("amqps://h").port())
                .as("amqps default port")
                .isEqualTo(5671);
        assertThat(TestSinkConfigs.parse("amqps://h").tls()).isTrue();
        assertThat(TestSinkConfigs.parse("amqp://h").virtualHost())
                .as("no path")
                .isEqualTo("/");
        assertThat(TestSinkConfigs.parse("amqp://h/").virtualHost())
                .as("empty path")
                .isEqualTo("/");
        assertThat(TestSinkConfigs.parse("amqp://u:p@h//").virtualHost())
                .as("the seed's //")
                .isEqualTo("/");
        assertThat(TestSinkConfigs.parse("amqp://h/%2f").virtualHost())
                .as("%2f")
                .isEqualTo("/");
        assertThat(TestSinkConfigs.parse("amqp://h/a%2Fb").virtualHost())
                .as("encoded slash")
                .isEqualTo("a/b");
        assertThat(TestSinkConfigs.parse("AMQP://h").tls()).as("scheme case").isFalse();
    }

    @Test
    void credentialsFallBackToTheUpstreamSettings() {
        AmqpSinkConfig fromSettings = AmqpSinkConfig.from(
                TestSinkConfigs.of("amqp://h:5672/%2f", Map.of("upstream.username", "svc", "upstream.password", "pw")));
        AmqpSinkConfig uriWins = AmqpSinkConfig.from(TestSinkConfigs.of(
                "amqp://app:fromuri@h", Map.of("upstream.username", "svc", "upstream.password", "pw")));
        AmqpSinkConfig none = TestSinkConfigs.parse("amqp://h");

        assertThat(fromSettings.username()).isEqualTo("svc");
        assertThat(fromSettings.password().reveal()).isEqualTo("pw");
        assertThat(uriWins.username()).as("URI user wins").isEqualTo("app");
        assertThat(uriWins.password().reveal()).as("URI password wins").isEqualTo("fromuri");
        assertThat(none.username()).as("client default").isNull();
        assertThat(none.password()).as("client default").isNull();
    }

    @Test
    void readsItsSettings() {
        AmqpSinkConfig c = AmqpSinkConfig.from(TestSinkConfigs.of(
                "amqp://h",
                Map.of(
                        "amqp.delivery-mode", "1",
                        "amqp.confirm-timeout-ms", "1500",
                        "amqp.connect-timeout-ms", "2500",
                        "amqp.recovery-interval-ms", "700")));

        assertThat(c.deliveryMode()).isEqualTo(1);
        assertThat(c.confirmTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(c.recoveryInterval()).isEqualTo(Duration.ofMillis(700));
    }

    @Test
    void deliveryModeHasTheSeedAliasTheFormerKeyAndItsOwnEnvironmentName() {
        assertThat(AmqpSinkConfig.DELIVERY_MODE.envName()).isEqualTo("PGBRIDGE_AMQP_DELIVERY_MODE");
        assertThat(AmqpSinkConfig.DELIVERY_MODE.aliases())
                .containsExactly("PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE");
        assertThat(AmqpSinkConfig.DELIVERY_MODE.deprecatedKeys()).containsExactly("delivery-mode");
        assertThat(AmqpSinkConfig.CONFIRM_TIMEOUT.envName()).isEqualTo("PGBRIDGE_AMQP_CONFIRM_TIMEOUT_MS");
    }

    @Test
    void environmentVariablesReachTheSinkSettings() {
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of(
                "PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE", "1",
                "PGBRIDGE_AMQP_CONFIRM_TIMEOUT_MS", "1500",
                "PGBRIDGE_AMQP_RECOVERY_INTERVAL_MS", "700"));

        assertThat(config.get("amqp.delivery-mode")).as("the seed's name").isEqualTo("1");
        assertThat(PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_DELIVERY_MODE", "1"))
                        .get("amqp.delivery-mode"))
                .as("the former environment name, deprecated")
                .isEqualTo("1");
        assertThat(PgBridgeConfig.fromEnvironment(
                                Map.of("PGBRIDGE_DELIVERY_MODE", "1", "PGBRIDGE_AMQP_DELIVERY_MODE", "2"))
                        .get("amqp.delivery-mode"))
                .as("the current name wins")
                .isEqualTo("2");
        assertThat(config.get("amqp.confirm-timeout-ms")).isEqualTo("1500");
        assertThat(config.get("amqp.recovery-interval-ms")).isEqualTo("700");
    }

    @Test
    void reportsEveryProblemAtOnceWithoutThePassword() {
        assertThatThrownBy(() -> AmqpSinkConfig.from(TestSinkConfigs.of(
                        "amqp://app:topsecret@h/a/b?heartbeat=10",
                        Map.of("amqp.delivery-mode", "3", "amqp.confirm-timeout-ms", "soon"))))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("problems")
                        .hasSize(4)
                        .anySatisfy(p -> assertThat(p).contains("PGBRIDGE_AMQP_DELIVERY_MODE='3'", "between 1 and 2"))
                        .anySatisfy(p -> assertThat(p).contains("PGBRIDGE_AMQP_CONFIRM_TIMEOUT_MS='soon'"))
                        .anySatisfy(p -> assertThat(p).contains("query parameters"))
                        .anySatisfy(p -> assertThat(p).contains("several segments", "%2f")))
                .hasMessageContaining("app:****@")
                .hasMessageNotContaining("topsecret");
    }

    @Test
    void rejectsAMissingUriAndOtherSchemes() {
        assertThatThrownBy(() -> AmqpSinkConfig.from(TestSinkConfigs.of(null, Map.of())))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_UPSTREAM_URI is missing");
        assertThatThrownBy(() -> TestSinkConfigs.parse("mqtt://h:1883"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("must start with amqp:// or amqps://");
        assertThatThrownBy(() -> TestSinkConfigs.parse("amqp:///vhost"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("has no host");
        assertThatThrownBy(() -> TestSinkConfigs.parse("amqp://u:p@h /x"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("not a valid URI")
                .hasMessageNotContaining("u:p@");
    }

    @Test
    void connectionFactoryRecoversAndVerifiesTls() {
        AmqpSinkConfig plain = AmqpSinkConfig.from(TestSinkConfigs.of(
                "amqp://app:pw@h:5673/prod",
                Map.of("amqp.connect-timeout-ms", "2500", "amqp.recovery-interval-ms", "700")));
        ConnectionFactory f = plain.newConnectionFactory(Executors.defaultThreadFactory());

        assertThat(f.isAutomaticRecoveryEnabled()).as("automatic recovery").isTrue();
        assertThat(f.isTopologyRecoveryEnabled())
                .as("topology recovery (the sink declares nothing)")
                .isFalse();
        assertThat(f.getNetworkRecoveryInterval()).isEqualTo(700);
        assertThat(f.getConnectionTimeout()).isEqualTo(2500);
        assertThat(f.getHandshakeTimeout()).isEqualTo(2500);
        assertThat(f.getChannelRpcTimeout())
                .as("channel open and confirm.select")
                .isEqualTo(2500);
        assertThat(f.getHost()).isEqualTo("h");
        assertThat(f.getPort()).isEqualTo(5673);
        assertThat(f.getVirtualHost()).isEqualTo("prod");
        assertThat(f.getUsername()).isEqualTo("app");
        assertThat(f.isSSL()).isFalse();
        assertThat(TestSinkConfigs.parse("amqps://h")
                        .newConnectionFactory(Executors.defaultThreadFactory())
                        .isSSL())
                .as("amqps uses TLS")
                .isTrue();
    }

    @Test
    void toStringRedactsThePassword() {
        assertThat(TestSinkConfigs.parse("amqp://app:topsecret@h/prod"))
                .hasToString(
                        "AmqpSinkConfig{uri=amqp://app:****@h/prod, vhost=prod, deliveryMode=2, confirmTimeout=30000ms}");
    }

    @Test
    void aConfigBuiltInCodeIsCheckedAsTheSettingsAre() {
        AmqpSinkConfig c = AmqpSinkConfig.builder()
                .uri("amqps://rabbit.example/prod")
                .credentials("app", "topsecret")
                .deliveryMode(1)
                .confirmTimeout(Duration.ofSeconds(3))
                .build();

        assertThat(c.port()).isEqualTo(5671);
        assertThat(c.username()).as("credentials when the URI has none").isEqualTo("app");
        assertThat(c.password().reveal()).isEqualTo("topsecret");
        assertThat(c.deliveryMode()).isEqualTo(1);
        assertThat(c.confirmTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.toString()).doesNotContain("topsecret");
        assertThat(new AmqpSink(c).name()).isEqualTo("amqp");

        assertThatThrownBy(() -> AmqpSinkConfig.builder().deliveryMode(3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("deliveryMode must be 1 or 2, was 3");
        assertThatThrownBy(() ->
                        AmqpSinkConfig.builder().uri("mqtt://u:secret@h/a/b").build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("every URI problem at once, password redacted")
                        .hasSize(2)
                        .allSatisfy(p -> assertThat(p).startsWith("PGBRIDGE_UPSTREAM_URI='mqtt://u:****@h/a/b'")));
        assertThatThrownBy(() -> AmqpSinkConfig.builder().build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_UPSTREAM_URI is missing");
    }
}
