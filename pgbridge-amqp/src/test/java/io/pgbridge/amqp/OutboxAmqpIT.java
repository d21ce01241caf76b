package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.pgbridge.PgBridge;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The outbox to RabbitMQ with the broker stopped for a while under a steady stream of {@code pgbridge.send}: every
 * committed event arrives afterwards, first deliveries in commit order, counted by message id.
 */
class OutboxAmqpIT {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Pattern SEQ = Pattern.compile("\"seq\": (\\d+)");
    private static final int TOTAL = 300;

    private final String schema =
            "pgb_amqp_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final String queue = schema + "_q";
    private java.sql.Connection pg;
    private PgBridge bridge;

    @BeforeEach
    void setUp() throws Exception {
        pg = TestServices.postgresConnection();
        java.net.URI uri = java.net.URI.create(TestServices.postgresUrl());
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL("jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath());
        String[] user = uri.getUserInfo().split(":", 2);
        ds.setUser(user[0]);
        if (user.length > 1) {
            ds.setPassword(user[1]);
        }
        PgBridgeSchema.migrate(ds, schema);
        withAdmin(ch -> ch.queueDeclare(queue, true, false, false, null));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
        withAdmin(ch -> ch.queueDelete(queue));
        String slot = schema + "_outbox_1";
        await().atMost(WAIT)
                .until(() ->
                        count("select count(*) from pg_replication_slots where slot_name = '" + slot + "' and active")
                                == 0);
        try (Statement st = pg.createStatement()) {
            st.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '" + slot
                    + "'; drop publication if exists " + slot + "; drop schema " + schema + " cascade");
        }
        pg.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"streaming", "polling"})
    void rabbitMqStoppedUnderASteadyStreamLosesNothingAndKeepsCommitOrder(String mode) throws Exception {
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.amqpUrl())
                .routes("events->queue:" + queue)
                .source("outbox")
                .setting("outbox.schema", schema)
                .setting("outbox.mode", mode)
                .setting("outbox.replay-after-ms", "300") // streaming: the outage goes through checkpoint and replay
                .setting("amqp.recovery-interval-ms", "500")
                .setting("amqp.confirm-timeout-ms", "5000")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(5))
                .build();
        bridge.start();

        AtomicInteger sent = new AtomicInteger();
        Thread producer = new Thread(() -> {
            try (java.sql.Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                for (int i = 1; i <= TOTAL; i++) {
                    st.execute("select " + schema + ".send('events', '{\"seq\": " + i + "}'::jsonb)");
                    sent.set(i);
                    Thread.sleep(10); // a steady stream through the outage
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        producer.start();
        await().atMost(WAIT).until(() -> bridge.stats().delivered() >= 50);
        try {
            TestServices.stop(TestServices.Service.AMQP);
            int atStop = sent.get();
            await().atMost(WAIT).until(() -> sent.get() >= atStop + 50);
        } finally {
            TestServices.start(TestServices.Service.AMQP);
        }
        producer.join(WAIT.toMillis());
        assertThat(sent.get()).as("events committed").isEqualTo(TOTAL);
        await().atMost(WAIT).until(() -> bridge.stats().delivered() >= TOTAL);

        Map<String, Integer> firstBySeq = new LinkedHashMap<>();
        List<GetResponse> messages = new ArrayList<>();
        withAdmin(ch -> {
            for (GetResponse r = ch.basicGet(queue, true); r != null; r = ch.basicGet(queue, true)) {
                messages.add(r);
            }
        });
        for (GetResponse r : messages) {
            Matcher m = SEQ.matcher(new String(r.getBody(), StandardCharsets.UTF_8));
            assertThat(m.find()).as("payload holds seq").isTrue();
            firstBySeq.putIfAbsent(r.getProps().getMessageId(), Integer.parseInt(m.group(1)));
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 1; i <= TOTAL; i++) {
            expected.add(i);
        }
        assertThat(new ArrayList<>(firstBySeq.values()))
                .as(
                        "first delivery of every committed event (by message id), in commit order; %d messages in all",
                        messages.size())
                .isEqualTo(expected);
    }

    @FunctionalInterface
    private interface AdminAction {
        void run(Channel channel) throws Exception;
    }

    private static void withAdmin(AdminAction action) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection c = factory.newConnection("pgbridge-outbox-it-admin");
                Channel ch = c.createChannel()) {
            action.run(ch);
        }
    }

    private long count(String sql) throws SQLException {
        try (Statement st = pg.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
