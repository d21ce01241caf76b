package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgBridgeConfigTest {

    @Test
    void readsPgbridgeEnvironmentVariables() {
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of(
                "PGBRIDGE_POSTGRESQL_URI", "postgresql://app:pw@db:5432/app",
                "PGBRIDGE_BRIDGE_CHANNELS", "events->exchange:amq.topic",
                "PGBRIDGE_NOTIFY_ROUTING_KEY_FROM_PAYLOAD", "false",
                "PGBRIDGE_TEST_POSTGRES_URL", "ignored",
                "PATH", "/usr/bin"));

        assertThat(config.get("postgresql.uri")).isEqualTo("postgresql://app:pw@db:5432/app");
        assertThat(config.get("bridge.channels")).isEqualTo("events->exchange:amq.topic");
        assertThat(config.get("notify.routing-key-from-payload")).isEqualTo("false");
        assertThat(config.toString()).contains("app:****@db").doesNotContain("pw@");
    }

    @Test
    void acceptsTheSeedsNames() {
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of(
                "PGPROXY_LOCAL-POSTGRESQL_URI", "postgresql://u@db/app",
                "PGPROXY_LOCAL-UPSTREAM_CONFIG-URI", "memory:",
                "PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS", "events->queue:events",
                "PGPROXY_LOCAL-UPSTREAM_CONFIG-PASSWORD", "topsecret"));

        assertThat(config.get("postgresql.uri")).isEqualTo("postgresql://u@db/app");
        assertThat(config.get("upstream.uri")).isEqualTo("memory:");
        assertThat(config.get("bridge.channels")).isEqualTo("events->queue:events");
        assertThat(config.toString()).contains("upstream.password=****").doesNotContain("topsecret");
        assertThat(config.toBuilder().build().routes()).hasSize(1);
    }

    @Test
    void pgbridgeNamesWinOverSeedAliases() {
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of(
                "PGBRIDGE_BRIDGE_CHANNELS", "a->queue:a",
                "PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS", "b->queue:b"));

        assertThat(config.get("bridge.channels")).isEqualTo("a->queue:a");
    }

    @Test
    void readsAPropertiesFileWithAnyOfTheThreeKeyForms(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("pgbridge.properties");
        Files.writeString(
                file,
                "postgresql.uri=postgresql://u@db/app\n"
                        + "PGBRIDGE_BRIDGE_CHANNELS=events->queue:events\n"
                        + "PGPROXY_LOCAL-UPSTREAM=memory\n");

        PgBridgeConfig config = PgBridgeConfig.fromProperties(file);

        assertThat(config.get("upstream")).isEqualTo("memory");
        assertThat(config.toBuilder().build().routes()).containsExactly(Route.of("events", Target.queue("events")));
    }

    @Test
    void namesEveryUnknownKeyInAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "postgres.url=x\nbridge.chanels=y\n");

        assertThatThrownBy(() -> PgBridgeConfig.fromProperties(file))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .hasSize(2)
                        .anySatisfy(p -> assertThat(p).startsWith("unknown key 'postgres.url'"))
                        .anySatisfy(p -> assertThat(p).startsWith("unknown key 'bridge.chanels'")));
    }

    @Test
    void aMissingFileIsAClearError(@TempDir Path dir) {
        assertThatThrownBy(() -> PgBridgeConfig.fromProperties(dir.resolve("nope.properties")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("cannot read properties file");
    }
}
