package io.pgbridge.server;

import static io.pgbridge.server.StartupErrorsIT.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import io.pgbridge.testkit.ThrowawayPostgres;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractStringAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code pgbridge check} against a PostgreSQL and a RabbitMQ that lack one prerequisite at a time: each missing one
 * is a FAIL line naming it and its fix, and the exit code is 3; a complete set-up passes with 0. Run against the
 * private services (the slot and plugin tests change the cluster for a moment).
 */
class CheckIT {
    private static final String POSTGRES = TestServices.postgresUrl();
    private static final String AMQP = TestServices.amqpUrl();
    private static final String QUEUE = "check_it_queue";

    @BeforeAll
    static void database() throws Exception {
        sql(
                "DROP SCHEMA IF EXISTS check_it CASCADE",
                "CREATE SCHEMA check_it",
                "CREATE TABLE check_it.orders (id int PRIMARY KEY, note text)",
                "DROP ROLE IF EXISTS check_it_norepl",
                "DROP ROLE IF EXISTS check_it_repl",
                "CREATE ROLE check_it_norepl LOGIN NOREPLICATION PASSWORD 'pw'",
                "CREATE ROLE check_it_repl LOGIN REPLICATION PASSWORD 'pw'",
                "GRANT USAGE ON SCHEMA check_it TO check_it_norepl, check_it_repl",
                "GRANT SELECT ON check_it.orders TO check_it_norepl, check_it_repl",
                "REVOKE CREATE ON DATABASE postgres FROM PUBLIC");
        try (com.rabbitmq.client.Connection c = rabbit().newConnection();
                Channel ch = c.createChannel()) {
            ch.queueDeclare(QUEUE, false, false, false, null);
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        sql(
                "DROP SCHEMA IF EXISTS check_it CASCADE",
                "DROP PUBLICATION IF EXISTS check_it_slot",
                "DROP ROLE IF EXISTS check_it_norepl",
                "DROP ROLE IF EXISTS check_it_repl");
        try (com.rabbitmq.client.Connection c = rabbit().newConnection();
                Channel ch = c.createChannel()) {
            ch.queueDelete(QUEUE);
        }
    }

    @Test
    void aCompleteSetUpPasses() {
        Runner.Result result = check(settings(POSTGRES, "events->exchange:amq.topic, check_it.orders->queue:" + QUEUE));

        assertThat(result.stdoutLines())
                .as("%s", result)
                .contains(
                        "ok    source notify: what it needs from PostgreSQL is in place",
                        "ok    source wal: what it needs from PostgreSQL is in place",
                        "ok    sink amqp: connected",
                        "ok    sink amqp: exchange 'amq.topic' exists",
                        "ok    sink amqp: queue '" + QUEUE + "' exists",
                        "All checks passed.");
        assertThat(result.exit()).isZero();
    }

    @Test
    void aRoleWithoutReplicationFails() {
        Runner.Result result = check(settings(as("check_it_norepl"), "check_it.orders->queue:" + QUEUE));

        assertThat(failures(result)).anySatisfy(line -> assertThat(line)
                .isEqualTo("FAIL  source wal: role check_it_norepl lacks the REPLICATION attribute: run ALTER"
                        + " ROLE \"check_it_norepl\" REPLICATION (as a superuser)"));
        assertThat(result.exit()).isEqualTo(3);
    }

    @Test
    void aMissingPublicationTheRoleMayNotCreateFails() {
        Runner.Result result = check(settings(as("check_it_repl"), "check_it.orders->queue:" + QUEUE));

        assertThat(failures(result))
                .as("%s", result)
                .containsExactly("FAIL  source wal: publication check_it_slot does not exist and role check_it_repl may"
                        + " not create it: that needs CREATE on the database and ownership of the tables; have an"
                        + " owner run CREATE PUBLICATION \"check_it_slot\" FOR TABLE \"check_it\".\"orders\"");
        assertThat(result.exit()).isEqualTo(3);
    }

    @Test
    void aTableWithoutReplicaIdentityFails() throws Exception {
        sql("CREATE TABLE check_it.keyless (note text)");
        try {
            Runner.Result result = check(settings(POSTGRES, "check_it.keyless->queue:" + QUEUE));

            onlyFailure(result).startsWith("FAIL  source wal: table check_it.keyless has no replica identity");
            assertThat(result.exit()).isEqualTo(3);
        } finally {
            sql("DROP TABLE check_it.keyless");
        }
    }

    @Test
    void aMissingSchemaTheRoleMayNotCreateFails() {
        Map<String, String> env = settings(as("check_it_repl"), "events->queue:" + QUEUE);
        env.put("PGBRIDGE_SOURCES", "outbox");
        env.put("PGBRIDGE_OUTBOX_MODE", "polling");
        env.put("PGBRIDGE_OUTBOX_SCHEMA", "check_it_no_schema");

        Runner.Result result = check(env);

        assertThat(failures(result))
                .as("%s", result)
                .containsExactly("FAIL  pgbridge schema check_it_no_schema is not installed, version " + latestVersion()
                        + " is needed and"
                        + " role check_it_repl may not create it (no CREATE on the database): have its owner run"
                        + " pgbridge schema migrate, or apply pgbridge schema sql");
        assertThat(result.exit()).isEqualTo(3);
    }

    @Test
    void noFreeReplicationSlotFails() throws Exception {
        List<String> fillers = new ArrayList<>();
        try (Connection c = TestServices.postgresConnection();
                Statement st = c.createStatement()) {
            int free = Integer.parseInt(single(st, "SELECT current_setting('max_replication_slots')"))
                    - Integer.parseInt(single(st, "SELECT count(*) FROM pg_replication_slots"));
            for (int i = 0; i < free; i++) {
                String slot = "check_it_filler_" + i;
                st.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
                fillers.add(slot);
            }
            Runner.Result result = check(settings(POSTGRES, "check_it.orders->queue:" + QUEUE));

            onlyFailure(result)
                    .startsWith("FAIL  source wal: no free replication slot (")
                    .endsWith("used): drop unused slots (SELECT slot_name FROM pg_replication_slots WHERE NOT "
                            + "active) or raise max_replication_slots and restart PostgreSQL");
            assertThat(result.exit()).isEqualTo(3);
        } finally {
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                for (String slot : fillers) {
                    st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
                }
            }
        }
    }

    @Test
    void anOutputPluginTheServerDoesNotAllowFails() throws Exception {
        String allowed;
        try (Connection c = TestServices.postgresConnection();
                Statement st = c.createStatement()) {
            allowed = single(st, "SHOW output_plugin_libraries");
            st.execute("ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding'");
            st.execute("SELECT pg_reload_conf()");
        }
        try {
            awaitPluginLibraries("pgoutput, test_decoding");
            Map<String, String> env = settings(POSTGRES, "check_it.orders->queue:" + QUEUE);
            env.put("PGBRIDGE_WAL_OUTPUT_PLUGIN", "wal2json");

            Runner.Result result = check(env);

            onlyFailure(result)
                    .startsWith("FAIL  source wal: output plugin wal2json is not in output_plugin_libraries");
            assertThat(result.exit()).isEqualTo(3);
        } finally {
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                List<String> quoted = new ArrayList<>();
                for (String lib : allowed.split(",")) {
                    quoted.add("'" + lib.strip() + "'");
                }
                st.execute("ALTER SYSTEM SET output_plugin_libraries = " + String.join(", ", quoted));
                st.execute("SELECT pg_reload_conf()");
            }
            awaitPluginLibraries(allowed);
        }
    }

    /** The machine's cluster must stay logical, so this runs a cluster of its own at {@code wal_level=replica}. */
    @Test
    void aServerWithoutLogicalDecodingFails() throws Exception {
        try (ThrowawayPostgres replica = ThrowawayPostgres.start(List.of("wal_level = replica"))) {
            try (Connection c = DriverManager.getConnection(
                            replica.url().replace("postgresql://postgres@", "jdbc:postgresql://"), "postgres", "");
                    Statement st = c.createStatement()) {
                st.execute("CREATE TABLE orders (id int PRIMARY KEY)");
            }

            Runner.Result result = check(settings(replica.url(), "public.orders->queue:" + QUEUE));

            assertThat(failures(result)).as("%s", result).anySatisfy(line -> assertThat(line)
                    .startsWith("FAIL  source wal: wal_level is 'replica', logical decoding needs 'logical':"
                            + " run ALTER SYSTEM SET wal_level = logical"));
            assertThat(result.exit()).isEqualTo(3);
        }
    }

    @Test
    void anUnreachableDatabaseFails() {
        Runner.Result result = check(settings("postgresql://postgres@127.0.0.1:1/postgres", "events->queue:" + QUEUE));

        onlyFailure(result)
                .startsWith("FAIL  Cannot connect to PostgreSQL at postgresql://postgres@127.0.0.1:1/postgres: ")
                .endsWith("(check host and port in PGBRIDGE_POSTGRESQL_URI and that PostgreSQL runs and listens "
                        + "there)");
        assertThat(result.exit()).isEqualTo(3);
    }

    @Test
    void wrongDatabaseCredentialsFail() {
        Runner.Result result =
                check(settings(POSTGRES.replace("postgres@", "check_it_nobody:pw@"), "events->queue:" + QUEUE));

        onlyFailure(result).startsWith("FAIL  Cannot connect");
        assertThat(result.exit()).isEqualTo(3);
    }

    @Test
    void aMissingExchangeOrQueueFails() {
        Runner.Result result =
                check(settings(POSTGRES, "events->exchange:check_it_no_exchange, jobs->queue:check_it_no_queue"));

        assertThat(failures(result))
                .as("%s", result)
                .containsExactly(
                        "FAIL  sink amqp: exchange 'check_it_no_exchange' does not exist: create it, or fix the route"
                                + " (every event to it would be retried for ever)",
                        "FAIL  sink amqp: queue 'check_it_no_queue' does not exist: create it, or fix the route (every"
                                + " event to it would be retried for ever)");
        assertThat(result.exit()).isEqualTo(3);
    }

    /** The NATS sink refuses such a subject when it starts: check passes its words on. */
    @Test
    void aNatsSubjectNoStreamCapturesFails() {
        Map<String, String> env = settings(POSTGRES, "events->subject:check_it.no_stream_captures_this");
        env.put("PGBRIDGE_UPSTREAM_URI", TestServices.natsUrl());

        Runner.Result result = check(env);

        assertThat(failures(result))
                .as("%s", result)
                .containsExactly("FAIL  sink nats: Invalid pgbridge configuration: no JetStream stream on "
                        + TestServices.natsUrl() + " captures subject 'check_it.no_stream_captures_this': create one"
                        + " (nats stream add --subjects 'check_it.no_stream_captures_this'), or set"
                        + " PGBRIDGE_NATS_CORE_SUBJECTS=true to publish it on core NATS at most once");
        assertThat(result.exit()).isEqualTo(3);
    }

    @Test
    void anUnreachableBrokerFails() {
        Map<String, String> env = settings(POSTGRES, "events->queue:" + QUEUE);
        env.put("PGBRIDGE_UPSTREAM_URI", "amqp://guest:guest@127.0.0.1:1/%2f");

        Runner.Result result = check(env);

        onlyFailure(result)
                .startsWith("FAIL  sink amqp: Cannot connect to RabbitMQ at amqp://guest:****@127.0.0.1:1/%2f");
        assertThat(result.exit()).isEqualTo(3);
    }

    @Test
    void aConfigurationErrorEndsTheCheckWithTwo() {
        Runner.Result result = check(env("PGBRIDGE_POSTGRESQL_URI", POSTGRES, "PGBRIDGE_BRIDGE_CHANELS", "x"));

        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.firstStderrLine()).contains("did you mean PGBRIDGE_BRIDGE_CHANNELS?");
        assertThat(result.stdout()).isEmpty();
    }

    /** The version of the last script pgbridge-sql ships, {@code 6} for {@code V6__...sql}. */
    static String latestVersion() {
        List<String> names = new ArrayList<>(PgBridgeSchema.scripts("pgbridge").keySet());
        String last = names.get(names.size() - 1);
        return last.substring(1, last.indexOf("__"));
    }

    private static Runner.Result check(Map<String, String> env) {
        return Runner.run(env, "check");
    }

    private static Map<String, String> settings(String postgres, String routes) {
        return env(
                "PGBRIDGE_POSTGRESQL_URI", postgres,
                "PGBRIDGE_UPSTREAM_URI", AMQP,
                "PGBRIDGE_BRIDGE_CHANNELS", routes,
                "PGBRIDGE_WAL_SLOT", "check_it_slot");
    }

    private static String as(String role) {
        return POSTGRES.replace("postgres@", role + ":pw@");
    }

    private static List<String> failures(Runner.Result result) {
        return result.stdoutLines().stream().filter(l -> l.startsWith("FAIL")).toList();
    }

    /** The one {@code FAIL} line of the check's output; fails the test (printing the output) when there is not one. */
    private static AbstractStringAssert<?> onlyFailure(Runner.Result result) {
        return assertThat(failures(result)).as("%s", result).singleElement().asString();
    }

    private static void awaitPluginLibraries(String expected) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                return single(st, "SHOW output_plugin_libraries").equals(expected);
            }
        });
    }

    private static ConnectionFactory rabbit() throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(URI.create(AMQP));
        return f;
    }

    private static void sql(String... statements) throws Exception {
        try (Connection c = TestServices.postgresConnection();
                Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private static String single(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
