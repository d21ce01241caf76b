package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.replication.LogSequenceNumber;

/**
 * WAL changes to RabbitMQ while RabbitMQ is stopped for a while: the replication slot does not advance past the
 * changes RabbitMQ has not confirmed, and once it is back every change arrives, in commit order.
 */
class WalToAmqpIT {
    private static final JsonFactory JSON = new JsonFactory();

    private final String name =
            "wal_amqp_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final String table = name + ".orders";
    private java.sql.Connection pg;
    private Connection admin;
    private Channel adminChannel;

    @BeforeEach
    void setUp() throws Exception {
        pg = TestServices.postgresConnection();
        exec("CREATE SCHEMA " + name, "CREATE TABLE " + table + " (id int PRIMARY KEY)");
        openAdmin();
        adminChannel.queueDeclare(name, true, false, false, null);
    }

    private void openAdmin() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        factory.setAutomaticRecoveryEnabled(false);
        admin = factory.newConnection("pgbridge-it-admin");
        adminChannel = admin.createChannel();
    }

    @AfterEach
    void tearDown() throws Exception {
        try (PreparedStatement ps = pg.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM "
                + "pg_replication_slots WHERE slot_name = ? AND NOT active")) {
            ps.setString(1, name);
            ps.execute();
        }
        exec("DROP PUBLICATION IF EXISTS " + name, "DROP SCHEMA " + name + " CASCADE");
        pg.close();
        if (!admin.isOpen()) {
            openAdmin();
        }
        adminChannel.queueDelete(name);
        admin.close();
    }

    @Test
    void slotWaitsForRabbitMqAndEverythingArrivesInCommitOrder() throws Exception {
        try (PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.amqpUrl())
                .routes(table + "->queue:" + name)
                .setting("wal.slot", name)
                .setting("wal.status-interval-ms", "200")
                .setting("amqp.recovery-interval-ms", "500")
                .setting("amqp.confirm-timeout-ms", "5000")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build()) {
            bridge.start();
            insert(1, 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.stats().delivered() == 100);
            long walAtOutage;
            try {
                TestServices.stop(TestServices.Service.AMQP);
                walAtOutage = currentWal();
                insert(101, 200);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> bridge.stats().retries() > 0);
                // for many status intervals (200 ms) and heartbeats, while the changes wait for RabbitMQ
                await().during(Duration.ofSeconds(3))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> confirmedFlush() <= walAtOutage);
            } finally {
                TestServices.start(TestServices.Service.AMQP);
            }
            insert(201, 300);
            await().atMost(Duration.ofSeconds(90)).until(() -> bridge.stats().delivered() >= 300);
            await().atMost(Duration.ofSeconds(30)).until(() -> confirmedFlush() > walAtOutage);
        }
        openAdmin();
        List<Integer> ids = new ArrayList<>();
        for (GetResponse r = adminChannel.basicGet(name, true); r != null; r = adminChannel.basicGet(name, true)) {
            ids.add(id(r.getBody()));
        }
        Set<Integer> firstSeen = new LinkedHashSet<>(ids);
        assertThat(firstSeen).as("every change, once or more").hasSize(300);
        assertThat(new ArrayList<>(firstSeen))
                .as("commit order (first deliveries)")
                .isSorted();
    }

    private void insert(int from, int to) throws SQLException {
        for (int id = from; id <= to; id += 10) {
            exec("INSERT INTO " + table + " SELECT generate_series(" + id + ", " + (id + 9) + ")");
        }
    }

    private long currentWal() throws SQLException {
        try (Statement st = pg.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
        }
    }

    private long confirmedFlush() throws SQLException {
        try (PreparedStatement ps =
                pg.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
            }
        }
    }

    private void exec(String... statements) throws SQLException {
        try (Statement st = pg.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private static int id(byte[] body) throws IOException {
        try (JsonParser p = JSON.createParser(body)) {
            boolean inNew = false;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.FIELD_NAME && p.currentName().equals("new")) {
                    inNew = true;
                } else if (inNew && t == JsonToken.FIELD_NAME && p.currentName().equals("id")) {
                    p.nextToken();
                    return p.getIntValue();
                }
            }
        }
        throw new IllegalStateException("no new.id in the change event");
    }
}
