package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgbridge.ConfigurationException;
import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.SchemaException;
import io.pgbridge.internal.replication.SetupStep;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prerequisite errors, the seed's wal2json mode and configuration, an idle database, and a confirmation reported
 * before the status interval.
 */
class WalSetupIT {
    private WalFixture db;

    @BeforeEach
    void setUp() throws Exception {
        db = new WalFixture();
    }

    @AfterEach
    void tearDown() throws Exception {
        db.close();
    }

    @Test
    void unmetPrerequisitesAreNamedWithTheirFix() throws Exception {
        String role = db.name + "_role";
        db.exec("CREATE ROLE " + role + " LOGIN", "CREATE TABLE " + db.schema + ".keyless (a int, b text)");
        try {
            PgBridge bridge = db.bridge(
                            db.schema + ".keyless->queue:a, " + db.schema + ".missing->queue:b", new InMemorySink())
                    .postgresCredentials(role, "unused")
                    .build();
            assertThatThrownBy(bridge::start)
                    .as("start() with three unmet prerequisites")
                    .isInstanceOf(SchemaException.class)
                    .hasMessageContaining("role " + role + " lacks the REPLICATION attribute: run ALTER ROLE")
                    .hasMessageContaining("table " + db.schema + ".missing (a routed channel) does not exist")
                    .hasMessageContaining("table " + db.schema + ".keyless has no replica identity key")
                    .hasMessageContaining("REPLICA IDENTITY FULL");
            assertThat(bridge.state()).as("nothing left running").isEqualTo(PgBridge.State.CLOSED);
            assertThat(db.confirmedFlush()).as("no slot created").isEqualTo(-1);
        } finally {
            db.exec("DROP ROLE " + role);
        }
    }

    @Test
    void refusesToStartWhenItsSlotWasDroppedAfterStreaming() throws Exception {
        String t = db.schema + ".dropped";
        db.exec("CREATE TABLE " + t + " (id int PRIMARY KEY)");
        try (PgBridge first = db.bridge(t + "->queue:a", new InMemorySink()).build()) {
            first.start();
        }
        WalFixture.dropSlot(db.sql, db.slot);
        db.exec("INSERT INTO " + t + " VALUES (1)"); // a change no slot holds any more

        PgBridge second = db.bridge(t + "->queue:a", new InMemorySink()).build();
        assertThatThrownBy(second::start)
                .as("start() after the slot was dropped")
                .isInstanceOf(SchemaException.class)
                .hasMessageContaining(
                        "slot " + db.slot + " is missing, but publication " + db.slot + " was made by pgbridge for it")
                .hasMessageContaining("DROP PUBLICATION");
        assertThat(db.confirmedFlush()).as("no new slot silently created").isEqualTo(-1);

        db.exec("DROP PUBLICATION " + db.slot);
        try (PgBridge third = db.bridge(t + "->queue:a", new InMemorySink()).build()) {
            third.start();
            assertThat(db.confirmedFlush())
                    .as("a fresh start once the publication is dropped")
                    .isPositive();
        }
    }

    /**
     * A bridge JVM SIGKILLed between creating the publication and the slot, or between creating the slot and marking
     * the publication as streamed through it: the next start completes the setup (no false "dropped slot" refusal)
     * and streams; a slot dropped after that is still refused.
     */
    @ParameterizedTest
    @ValueSource(strings = {"wal-publication", "wal-slot"})
    void killedBetweenSetupStepsThenStartedCompletesTheSetup(String step) throws Exception {
        String t = db.schema + ".crash";
        db.exec("CREATE TABLE " + t + " (id int PRIMARY KEY)");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("wal-setup-crash");
        java.nio.file.Path log = dir.resolve("child.log");
        Process child = WalChild.start(
                log,
                List.of("-D" + SetupStep.PROPERTY + "=" + step),
                TestServices.postgresUrl(),
                db.slot,
                t + "->queue:a",
                dir.resolve("ledger").toString(),
                "-1");
        try {
            await("the bridge reached setup step " + step)
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> java.nio.file.Files.exists(log)
                            && java.nio.file.Files.readString(log).contains("setup paused at " + step));
        } finally {
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
        }
        InMemorySink sink = new InMemorySink();
        try (PgBridge second = db.bridge(t + "->queue:a", sink).build()) {
            second.start();
            db.exec("INSERT INTO " + t + " VALUES (1)");
            assertThat(sink.await(1, Duration.ofSeconds(30)))
                    .as("streamed after the completed setup")
                    .hasSize(1);
        }
        WalFixture.dropSlot(db.sql, db.slot);
        assertThatThrownBy(db.bridge(t + "->queue:a", new InMemorySink()).build()::start)
                .as("start() after the completed slot was dropped")
                .isInstanceOf(SchemaException.class)
                .hasMessageContaining("was made by pgbridge for it");
        db.exec("DROP PUBLICATION " + db.slot);
    }

    @Test
    void temporarySlotStreamsAndIsGoneAfterClose() throws Exception {
        String t = db.schema + ".temp";
        db.exec("CREATE TABLE " + t + " (id int PRIMARY KEY)");
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = db.bridge(t + "->queue:a", sink)
                .setting("wal.temporary-slot", "true")
                .build()) {
            bridge.start();
            assertThat(db.confirmedFlush())
                    .as("the temporary slot exists while streaming")
                    .isPositive();
            db.exec("INSERT INTO " + t + " VALUES (1)");
            assertThat(sink.await(1, Duration.ofSeconds(30))).as("streamed").hasSize(1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> db.confirmedFlush() == -1);
    }

    @Test
    void invalidSlotAndPublicationNamesAreRejectedAtBuild() {
        assertThatThrownBy(() -> db.bridge(db.schema + ".t->queue:a", new InMemorySink())
                        .setting("replication.slot", "Bad-Slot")
                        .setting("wal.publication", "Pub")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_WAL_SLOT='Bad-Slot'")
                .hasMessageContaining("PGBRIDGE_WAL_PUBLICATION='Pub'");
    }

    @Test
    void wal2jsonModeFromTheSeedsEnvironment() throws Exception {
        String t = db.schema + ".seed";
        db.exec("CREATE TABLE " + t + " (id int PRIMARY KEY, v text)");
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of(
                "PGPROXY_LOCAL-POSTGRESQL_URI", TestServices.postgresUrl(),
                "PGPROXY_LOCAL-REPLICATION_SLOT", db.slot,
                "PGPROXY_LOCAL-WAL2JSON_PARAMS", "\"format-version\" '2', \"include-types\" '1'",
                "PGBRIDGE_WAL_OUTPUT_PLUGIN", "wal2json",
                "PGBRIDGE_BRIDGE_CHANNELS", "wal2json->exchange:amq.topic",
                "PGBRIDGE_WAL_STATUS_INTERVAL_MS", "200"));
        InMemorySink sink = new InMemorySink();
        try (PgBridge bridge = config.toBuilder().sink(sink).build()) {
            bridge.start();
            db.exec("INSERT INTO " + t + " VALUES (1, 'a')", "UPDATE " + t + " SET v = 'b'", "DELETE FROM " + t);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> ofChannel(sink, t).size() >= 3);
            List<Event> events = ofChannel(sink, t);
            assertThat(events).as("three changes").hasSize(3);
            JsonNode insert = WalFixture.json(events.get(0));
            assertThat(insert.get("action").asText()).as("wal2json action").isEqualTo("I");
            assertThat(insert.get("columns").get(1).get("value").asText())
                    .as("wal2json column")
                    .isEqualTo("a");
            assertThat(insert.get("columns").get(1).get("type").asText())
                    .as("include-types 1")
                    .isEqualTo("text");
            assertThat(WalFixture.json(events.get(1)).get("action").asText())
                    .as("update")
                    .isEqualTo("U");
            assertThat(WalFixture.json(events.get(2))
                            .get("identity")
                            .get(0)
                            .get("value")
                            .asInt())
                    .as("delete identity")
                    .isEqualTo(1);
            assertThat(events).extracting(Event::position).as("commit order").isSorted();
            assertThat(events.get(0).id()).as("id").endsWith(":0");
        }
    }

    private static List<Event> ofChannel(InMemorySink sink, String channel) {
        return sink.events().stream().filter(e -> e.channel().equals(channel)).toList();
    }

    @Test
    void aConfirmedTransactionReachesTheSlotWithoutWaitingForTheStatusInterval() throws Exception {
        db.exec("CREATE TABLE " + db.schema + ".orders (id int PRIMARY KEY)");
        InMemorySink sink = new InMemorySink();
        // no keepalive request from the server either (it asks for a reply every wal_sender_timeout / 2)
        String url = TestServices.postgresUrl() + "?options=-c%20wal_sender_timeout%3D600000";
        try (PgBridge bridge = db.bridge(db.schema + ".orders->queue:orders", sink)
                .postgres(url)
                .setting("wal.status-interval-ms", "60000")
                .build()) {
            bridge.start();
            db.exec("INSERT INTO " + db.schema + ".orders VALUES (1)");
            long afterCommit = db.currentWalLsn();
            assertThat(sink.await(1, Duration.ofSeconds(30))).hasSize(1);
            // a status interval of a minute: only the source's prompt report moves the slot this soon
            await().atMost(Duration.ofSeconds(10)).until(() -> db.confirmedFlush() >= afterCommit);
        }
    }

    @Test
    void idleDatabaseSlotAdvancesWhileOtherDatabasesWrite() throws Exception {
        String database = db.name + "_idle";
        db.exec("CREATE DATABASE " + database);
        String url = TestServices.postgresUrl().replaceFirst("/[^/?]*(\\?|$)", "/" + database + "$1");
        try (Connection idle = DriverManager.getConnection(
                "jdbc:" + url.replaceFirst("^postgres(ql)?://([^@/]*@)?", "postgresql://"), "postgres", "")) {
            idle.createStatement().execute("CREATE TABLE quiet (id int PRIMARY KEY)");
            InMemorySink sink = new InMemorySink();
            // the catch-all channel with pgoutput: a publication FOR ALL TABLES, in this database only
            try (PgBridge bridge =
                    db.bridge("wal2json->queue:all", sink).postgres(url).build()) {
                bridge.start();
                idle.createStatement().execute("INSERT INTO quiet VALUES (1)");
                assertThat(sink.await(1, Duration.ofSeconds(30)).get(0).channel())
                        .as("FOR ALL TABLES publication")
                        .isEqualTo("public.quiet");

                db.exec(
                        "CREATE TABLE " + db.schema + ".busy (id int)",
                        "INSERT INTO " + db.schema + ".busy SELECT generate_series(1, 10000)");
                long walAfterWrites = db.currentWalLsn();
                await().atMost(Duration.ofSeconds(30)).until(() -> db.confirmedFlush() >= walAfterWrites);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> bridge.stats().sourceLagBytes().containsKey("wal"));
                assertThat(sink.events())
                        .as("the other database's writes are not events")
                        .hasSize(1);
            }
        } finally {
            WalFixture.dropSlot(db.sql, db.slot);
            db.exec("DROP DATABASE " + database + " WITH (FORCE)");
        }
    }
}
