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
    void aSettingsProvidersSettingsAreKnownCheckedAndListed() {
        assertThat(PgBridgeConfig.settings()).contains(ExampleSettingsProvider.INTERVAL);
        assertThat(PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_EXAMPLE_INTERVAL_MS", "250"))
                        .get("example.interval-ms"))
                .isEqualTo("250");
        assertThatThrownBy(() -> PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_EXAMPLE_INTERVAL_MS", "5s")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_EXAMPLE_INTERVAL_MS='5s': must be a whole number of milliseconds");
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

    @Test
    void anUnknownPgbridgeVariableIsAnErrorWithTheClosestKnownName() {
        assertThatThrownBy(() -> PgBridgeConfig.fromEnvironment(Map.of(
                        "PGBRIDGE_UPSTREAM_URL", "amqp://localhost",
                        "PGBRIDGE_POSTGRES_URI", "postgresql://db/app",
                        "PGBRIDGE_TEST_ANYTHING", "ignored")))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .containsExactly(
                                "PGBRIDGE_POSTGRES_URI is not a pgbridge setting; did you mean PGBRIDGE_POSTGRESQL_URI?"
                                        + " (README.md lists every setting)",
                                "PGBRIDGE_UPSTREAM_URL is not a pgbridge setting; did you mean PGBRIDGE_UPSTREAM_URI?"
                                        + " (README.md lists every setting)"));
    }

    @Test
    void aNameFarFromEveryKnownOneGetsNoGuess() {
        assertThatThrownBy(() -> PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_COMPLETELY_DIFFERENT_THING", "x")))
                .isInstanceOfSatisfying(
                        ConfigurationException.class,
                        e -> assertThat(e.problems()).singleElement().asString().doesNotContain("did you mean"));
    }

    @Test
    void settingsOfComponentsNotInUseAreStillTypeChecked() {
        assertThatThrownBy(() -> PgBridgeConfig.fromEnvironment(Map.of(
                        "PGBRIDGE_BRIDGE_CHANNELS", "events->queue:events",
                        "PGBRIDGE_WAL_HEARTBEAT_INTERVAL_MS", "5s")))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .containsExactly(
                                "PGBRIDGE_WAL_HEARTBEAT_INTERVAL_MS='5s': must be a whole number of milliseconds"));
    }

    @Test
    void aPasswordThatNeedsPercentEncodingIsNamedWithItsFix() {
        assertThatThrownBy(() -> PgBridgeConfig.fromEnvironment(Map.of(
                        "PGBRIDGE_POSTGRESQL_URI", "postgresql://app:p@ss@db:5432/app",
                        "PGBRIDGE_UPSTREAM_URI", "amqp://guest:se#cret@rabbit:5672/%2f")))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .containsExactly(
                                "PGBRIDGE_POSTGRESQL_URI='postgresql://****@db:5432/app': its user or password holds"
                                        + " '@', which ends that part of a URI: percent-encode it (@ as %40, # as %23,"
                                        + " / as %2F, ? as %3F, : in a user as %3A), or leave the password out of the"
                                        + " URI and set PGBRIDGE_POSTGRESQL_PASSWORD",
                                "PGBRIDGE_UPSTREAM_URI='amqp://****@rabbit:5672/%2f': its user or password holds"
                                        + " '#', which ends that part of a URI: percent-encode it (@ as %40, # as %23,"
                                        + " / as %2F, ? as %3F, : in a user as %3A), or leave the password out of the"
                                        + " URI and set PGBRIDGE_UPSTREAM_PASSWORD")
                        .noneSatisfy(p -> assertThat(p).contains("ss@", "cret")));
    }

    @Test
    void anAtSignInAQueryIsNotMistakenForAPassword() {
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(
                Map.of("PGBRIDGE_POSTGRESQL_URI", "postgresql://db:5432/app?user=ops@example.com"));

        assertThat(config.get("postgresql.uri")).isEqualTo("postgresql://db:5432/app?user=ops@example.com");
    }

    @Test
    void aRouteListWithSemicolonsIsAnErrorNamingTheSeparator() {
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of(
                "PGBRIDGE_POSTGRESQL_URI", "postgresql://db/app",
                "PGBRIDGE_UPSTREAM_URI", "memory:",
                "PGBRIDGE_BRIDGE_CHANNELS", "events->queue:a;jobs->queue:b"));

        assertThatThrownBy(() -> config.toBuilder().build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .containsExactly("PGBRIDGE_BRIDGE_CHANNELS entry 'events->queue:a;jobs->queue:b': holds more"
                                + " than one route; separate routes with ',' (not ';' or spaces), for example"
                                + " events->exchange:amq.topic, jobs->queue:jobs"));
    }

    @Test
    void theEnvironmentWinsOverAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("pgbridge.properties");
        Files.writeString(file, "bridge.channels=a->queue:a\nupstream=memory\n");

        PgBridgeConfig config = PgBridgeConfig.fromProperties(file)
                .overriddenBy(PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_BRIDGE_CHANNELS", "b->queue:b")));

        assertThat(config.get("bridge.channels")).isEqualTo("b->queue:b");
        assertThat(config.get("upstream")).isEqualTo("memory");
        assertThat(config.isEmpty()).isFalse();
        assertThat(PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_TEST_X", "y", "HOME", "/root"))
                        .isEmpty())
                .isTrue();
    }
}
