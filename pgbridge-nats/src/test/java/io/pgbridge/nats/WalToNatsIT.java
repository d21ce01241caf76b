package io.pgbridge.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.api.MessageInfo;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.replication.LogSequenceNumber;

/**
 * WAL changes to a JetStream stream while the NATS server is stopped for a while: the replication slot does not
 * advance past what the stream has not acknowledged, and afterwards the stream holds every change exactly once (the
 * changes published again after the outage fall in the duplicate window), in commit order.
 */
class WalToNatsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 300;

    private final String name =
            "wal_nats_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final String table = name + ".orders";
    private final String stream = name.toUpperCase();
    private final String subject = "pgbridge.it." + name;
    private java.sql.Connection pg;

    @BeforeEach
    void setUp() throws Exception {
        pg = TestServices.postgresConnection();
        exec("CREATE SCHEMA " + name, "CREATE TABLE " + table + " (id int PRIMARY KEY)");
        NatsStreams.create(stream, subject);
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
        NatsStreams.delete(stream);
    }

    @Test
    void natsStoppedMidStreamLosesNothingAndDuplicatesNothing() throws Exception {
        try (PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.natsUrl())
                .routes(table + "->subject:" + subject)
                .setting("replication.slot", name)
                .setting("wal.status-interval-ms", "200")
                .setting("nats.publish-timeout-ms", "3000")
                .setting("nats.reconnect-wait-ms", "200")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build()) {
            bridge.start();
            insert(1, 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.stats().delivered() == 100);
            long walAtOutage;
            try {
                TestServices.stop(TestServices.Service.NATS);
                walAtOutage = currentWal();
                insert(101, 200);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> bridge.stats().retries() > 0);
                await().during(Duration.ofSeconds(3))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> confirmedFlush() <= walAtOutage);
            } finally {
                TestServices.start(TestServices.Service.NATS);
            }
            insert(201, ROWS);
            await().atMost(Duration.ofSeconds(90)).until(() -> bridge.stats().delivered() >= ROWS);
            await().atMost(Duration.ofSeconds(30)).until(() -> confirmedFlush() > walAtOutage);
        }

        List<MessageInfo> messages = NatsStreams.readAll(stream);
        List<Integer> ids = new ArrayList<>();
        for (MessageInfo m : messages) {
            ids.add(JSON.readTree(m.getData()).get("new").get("id").asInt());
            assertThat(m.getHeaders().getFirst("Nats-Msg-Id"))
                    .as("message id = event id")
                    .isEqualTo(m.getHeaders().getFirst(NatsSink.HEADER_EVENT_ID));
        }
        assertThat(ids)
                .as("the stream holds every change exactly once, in commit order")
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, ROWS).boxed().collect(Collectors.toList()));
    }

    private void insert(int from, int to) throws SQLException {
        for (int id = from; id <= to; id += 10) {
            exec("INSERT INTO " + table + " SELECT generate_series(" + id + ", " + Math.min(to, id + 9) + ")");
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
}
