package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.PgBridgeConfig;
import io.pgbridge.spi.Setting;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad input of issue 13's "What a new user meets today", and the runner's answer: its exit code (2
 * configuration, 3 an unreachable or refusing dependency) and its first line on standard error, with no stack trace
 * and nothing on standard output.
 */
class StartupErrorsIT {
    private static final String POSTGRES = TestServices.postgresUrl();
    private static final String AMQP = TestServices.amqpUrl();
    /** Settings whose database is not there (port 1): the bridge fails to start with exit code 3. */
    private static final Map<String, String> UNREACHABLE_DATABASE = Map.copyOf(env(
            "PGBRIDGE_POSTGRESQL_URI",
            "postgresql://postgres@127.0.0.1:1/postgres",
            "PGBRIDGE_UPSTREAM_URI",
            "memory:",
            "PGBRIDGE_BRIDGE_CHANNELS",
            "events->queue:e"));

    static Stream<Arguments> badInputs() {
        return Stream.of(
                bad(
                        "a typo in the upstream variable",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                POSTGRES,
                                "PGBRIDGE_UPSTREAM_URL",
                                AMQP,
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "events->exchange:amq.topic"),
                        2,
                        "PGBRIDGE_UPSTREAM_URL is not a pgbridge setting; did you mean PGBRIDGE_UPSTREAM_URI? "
                                + "(README.md lists every setting)"),
                bad(
                        "a typo in the database variable (the demo must not start)",
                        env("PGBRIDGE_POSTGRES_URI", POSTGRES, "PGBRIDGE_UPSTREAM_URI", AMQP),
                        2,
                        "PGBRIDGE_POSTGRES_URI is not a pgbridge setting; did you mean PGBRIDGE_POSTGRESQL_URI? "
                                + "(README.md lists every setting)"),
                bad(
                        "';' as the route separator",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                POSTGRES,
                                "PGBRIDGE_UPSTREAM_URI",
                                AMQP,
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "events->exchange:amq.topic;jobs->queue:jobs"),
                        2,
                        "PGBRIDGE_BRIDGE_CHANNELS entry 'events->exchange:amq.topic;jobs->queue:jobs': holds more "
                                + "than one route; separate routes with ',' (not ';' or spaces), for example "
                                + "events->exchange:amq.topic, jobs->queue:jobs"),
                bad(
                        "an unknown target kind",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                POSTGRES,
                                "PGBRIDGE_UPSTREAM_URI",
                                AMQP,
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "events->exchnge:amq.topic"),
                        2,
                        "route 'events->exchnge:amq.topic': target kind 'exchnge' is unknown to sink amqp; it "
                                + "knows exchange, queue"),
                bad(
                        "a setting of a component not in use with a unit in its value",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                POSTGRES,
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "events->queue:e",
                                "PGBRIDGE_WAL_HEARTBEAT_INTERVAL_MS",
                                "5s"),
                        2,
                        "PGBRIDGE_WAL_HEARTBEAT_INTERVAL_MS='5s': must be a whole number of milliseconds"),
                bad(
                        "an unencoded '@' in the database password",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                "postgresql://postgres:p@ss@127.0.0.1:5432/postgres",
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "events->queue:e"),
                        2,
                        "PGBRIDGE_POSTGRESQL_URI='postgresql://****@127.0.0.1:5432/postgres': its user or password "
                                + "holds '@', which ends that part of a URI: percent-encode it (@ as %40, # as %23, / "
                                + "as %2F, ? as %3F, : in a user as %3A), or leave the password out of the URI and set"
                                + " PGBRIDGE_POSTGRESQL_PASSWORD"),
                bad(
                        "an unencoded '#' in the broker password",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                POSTGRES,
                                "PGBRIDGE_UPSTREAM_URI",
                                "amqp://guest:gu#est@127.0.0.1:5672/%2f",
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "events->queue:e"),
                        2,
                        "PGBRIDGE_UPSTREAM_URI='amqp://****@127.0.0.1:5672/%2f': its user or password holds '#', "
                                + "which ends that part of a URI: percent-encode it (@ as %40, # as %23, / as %2F, ? "
                                + "as %3F, : in a user as %3A), or leave the password out of the URI and set "
                                + "PGBRIDGE_UPSTREAM_PASSWORD"),
                bad(
                        "settings without the database",
                        env("PGBRIDGE_UPSTREAM_URI", AMQP, "PGBRIDGE_BRIDGE_CHANNELS", "events->queue:e"),
                        2,
                        "PGBRIDGE_POSTGRESQL_URI is missing: set it to postgresql://user:password@host:5432/database "
                                + "or a jdbc:postgresql: URL"),
                bad(
                        "an unreachable database",
                        UNREACHABLE_DATABASE,
                        3,
                        "Cannot LISTEN on jdbc:postgresql://127.0.0.1:1/postgres as postgres: Connection to "
                                + "127.0.0.1:1 refused."),
                bad(
                        "a broker refusing the credentials",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                POSTGRES,
                                "PGBRIDGE_UPSTREAM_URI",
                                AMQP.replace("guest:guest@", "guest:wrong@"),
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "events->queue:e"),
                        3,
                        "Cannot connect to RabbitMQ at amqp://guest:****@"),
                bad(
                        "a WAL route to a table that does not exist (a schema error)",
                        env(
                                "PGBRIDGE_POSTGRESQL_URI",
                                POSTGRES,
                                "PGBRIDGE_UPSTREAM_URI",
                                "memory:",
                                "PGBRIDGE_BRIDGE_CHANNELS",
                                "public.no_such_table_13->queue:e",
                                "PGBRIDGE_WAL_SLOT",
                                "startup_errors_it"),
                        3,
                        "PostgreSQL is not ready for logical replication (slot startup_errors_it):"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void aBadInputGetsOneLineAndItsExitCode(String what, Map<String, String> env, int exit, String firstLine) {
        Runner.Result result = Runner.run(env);

        assertThat(result.exit()).as("exit code of %s\n%s", what, result).isEqualTo(exit);
        assertThat(result.firstStderrLine())
                .as("first line on stderr\n%s", result)
                .contains(" ERROR [main] pgbridge - ");
        if (exit == 2) {
            assertThat(result.firstStderrLine()).endsWith(" - " + firstLine);
        } else {
            assertThat(result.firstStderrLine()).contains(" - " + firstLine);
        }
        assertThat(result.stderr()).as("no stack trace at INFO\n%s", result).doesNotContain("\tat ", "Caused by");
        assertThat(result.stderr())
                .as("the demo never starts with settings present")
                .doesNotContain("embedded");
        assertThat(result.stdout()).as("nothing on stdout").isEmpty();
    }

    @Test
    void debugAddsTheStackTrace() {
        Runner.Result result = Runner.run(UNREACHABLE_DATABASE, "--log-level=debug");
        try {
            assertThat(result.exit()).isEqualTo(3);
            assertThat(result.stderr()).contains("Stack trace", "\tat ");
        } finally {
            Runner.run(Map.of(), "--log-level=info", "--version");
        }
    }

    @Test
    void aTakenManagementPortIsOneLineAndExitCodeTwo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Runner.Result result = Runner.run(Map.of(
                    "PGBRIDGE_POSTGRESQL_URI",
                    POSTGRES,
                    "PGBRIDGE_UPSTREAM_URI",
                    "memory:",
                    "PGBRIDGE_BRIDGE_CHANNELS",
                    "events->queue:e",
                    "PGBRIDGE_MANAGEMENT_PORT",
                    String.valueOf(taken.getLocalPort())));

            assertThat(result.exit()).as("%s", result).isEqualTo(2);
            assertThat(result.stderrLines())
                    .as("the bridge did not start")
                    .singleElement()
                    .asString()
                    .endsWith("the management endpoint cannot listen on 127.0.0.1:" + taken.getLocalPort()
                            + " (Address already in use); set PGBRIDGE_MANAGEMENT_PORT to a free port (and "
                            + "PGBRIDGE_MANAGEMENT_ADDRESS to an address of this host), or "
                            + "PGBRIDGE_MANAGEMENT_ENABLED=false");
        }
    }

    @Test
    void anUnknownOptionIsOneLine() {
        Runner.Result result = Runner.run(Map.of(), "--confg", "x.properties");

        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.stderrLines())
                .singleElement()
                .asString()
                .endsWith("Unknown options: '--confg', 'x.properties'; see pgbridge --help");
    }

    @Test
    void versionPrintsTheVersion() {
        Runner.Result result = Runner.run(Map.of(), "--version");

        assertThat(result.exit()).isZero();
        assertThat(result.stdout().strip()).isEqualTo("pgbridge " + System.getProperty("pgbridge.version"));
    }

    @Test
    void helpListsEverySettingWithTypeAndDefault() {
        Runner.Result result = Runner.run(Map.of(), "--help");

        assertThat(result.exit()).isZero();
        for (Setting s : PgBridgeConfig.settings()) {
            assertThat(result.stdout())
                    .containsPattern("\n  " + s.envName() + "( \\(also [^)]*\\))?\n      " + s.key() + "; ");
        }
        assertThat(result.stdout())
                .contains("PGBRIDGE_BUFFER_MAX_EVENTS\n      buffer.max-events; integer 1..10000000; default 10000")
                .contains("run", "demo", "check", "schema", "slots");
    }

    @Test
    void schemaMigrateSaysNothingOnStdoutAndFlywayStaysQuiet() throws Exception {
        String schema = "startup_errors_it_schema";
        try {
            Runner.Result result = Runner.run(
                    env("PGBRIDGE_POSTGRESQL_URI", POSTGRES, "PGBRIDGE_OUTBOX_SCHEMA", schema), "schema", "migrate");

            assertThat(result.exit()).as("%s", result).isZero();
            assertThat(result.stdout()).isEmpty();
            assertThat(result.stderrLines())
                    .as("one line of ours, none of Flyway's")
                    .singleElement()
                    .asString()
                    .contains("pgbridge schema " + schema + " is up to date ("
                            + PgBridgeSchema.scripts(schema).size() + " script(s) applied)");
        } finally {
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    @Test
    void schemaSqlPrintsTheScriptsWithTheSchemaName() {
        Runner.Result result = Runner.run(Map.of(), "schema", "sql", "--schema", "events_out");

        assertThat(result.exit()).isZero();
        assertThat(result.stdout())
                .startsWith("-- V1__outbox_schema.sql")
                .contains("-- V" + CheckIT.latestVersion() + "__", "events_out.")
                .doesNotContain("${schema}");
        assertThat(result.stdout().indexOf("-- V2__"))
                .isLessThan(result.stdout().indexOf("-- V3__"));
    }

    private static Arguments bad(String what, Map<String, String> env, int exit, String firstLine) {
        return Arguments.of(what, env, exit, firstLine);
    }

    static Map<String, String> env(String... namesAndValues) {
        Map<String, String> env = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            env.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return env;
    }
}
