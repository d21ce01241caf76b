package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.ChildJvm;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.replication.LogSequenceNumber;

/**
 * A committed change is never lost when RabbitMQ refuses the tail of a transaction and the bridge is then stopped or
 * killed, for both paths that stream from a replication slot: WAL changes of a table, and the streaming outbox. The
 * bridge runs in a child JVM configured only through {@code PGBRIDGE_*} variables; the queue refuses messages beyond
 * its length ({@code x-max-length} with {@code x-overflow=reject-publish}: RabbitMQ nacks them), so a transaction is
 * confirmed up to some row and refused after it. Once a consumer makes room and the bridge runs again, every row
 * arrives.
 */
class AmqpFaultIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofMinutes(2);

    /** Where the rows come from. */
    enum Source {
        /** A table routed as WAL changes; the message is the change event, the row id under {@code new.id}. */
        WAL,
        /**
         * {@code pgbridge.send} in streaming mode, with a short {@code outbox.replay-after-ms} so that the refusal
         * also sends the source through checkpoint and replay; the message is the payload, the row id under
         * {@code id}.
         */
        OUTBOX
    }

    private final String name =
            "amqp_fault_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final List<ChildJvm> bridges = new ArrayList<>();
    private final Map<Long, Integer> received = new ConcurrentHashMap<>();
    private volatile String commitLsn;
    private Source source;
    private java.sql.Connection pg;
    private Connection rabbit;
    private Channel admin;

    @BeforeEach
    void connect() throws Exception {
        pg = TestServices.postgresConnection();
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        rabbit = factory.newConnection("pgbridge-it-consumer");
        admin = rabbit.createChannel();
    }

    private void prepare(Source source) throws SQLException {
        this.source = source;
        if (source == Source.WAL) {
            exec(
                    "CREATE SCHEMA " + name,
                    "CREATE TABLE " + name + ".orders (id bigint PRIMARY KEY, ref uuid NOT NULL, kind text NOT NULL,"
                            + " amount numeric(12,2) NOT NULL, doc jsonb NOT NULL,"
                            + " created_at timestamptz NOT NULL DEFAULT clock_timestamp())");
        } else {
            PgBridgeSchema.migrate(TestServices.postgresDataSource(), name);
        }
    }

    private String slot() {
        return source == Source.WAL ? name : name + "_outbox_1";
    }

    @AfterEach
    void tearDown() throws Exception {
        for (ChildJvm bridge : bridges) {
            bridge.close();
        }
        await().atMost(WAIT)
                .until(() ->
                        count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot() + "' AND active")
                                == 0);
        exec(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot()
                        + "'",
                "DROP PUBLICATION IF EXISTS " + slot(),
                "DROP SCHEMA IF EXISTS " + name + " CASCADE");
        pg.close();
        admin.queueDelete(name);
        rabbit.close();
    }

    /** The reproduction: three rows, the broker takes two and nacks the third, the bridge gets SIGTERM. */
    @Test
    void aTransactionWhoseLastRowIsNackedIsReadAgainAfterSigterm() throws Exception {
        prepare(Source.WAL);
        declareQueue(2);
        ChildJvm bridge = startBridge(Map.of("PGBRIDGE_BUFFER_MAX_EVENTS", "2"));
        insertOneTransaction(3);
        awaitRefusing(bridge, 2);

        assertThat(bridge.terminate())
                .as("the JVM's status after SIGTERM: 128 + 15")
                .isEqualTo(143);
        assertThat(bridge.log())
                .as("the shutdown hook closed the bridge and said what becomes of the unconfirmed row")
                .contains("1 event(s) of source wal were not confirmed")
                .contains("read again on the next start")
                .contains("pgbridge closed");
        consume();
        await().atMost(WAIT).until(() -> received.size() == 2);
        assertThat(confirmedFlush())
                .as("the slot does not pass the transaction (commit %s) whose third row was nacked", commitLsn)
                .isLessThanOrEqualTo(LogSequenceNumber.valueOf(commitLsn).asLong());

        startBridge(Map.of("PGBRIDGE_BUFFER_MAX_EVENTS", "2"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(received).containsOnlyKeys(1L, 2L, 3L));
    }

    /**
     * 20,000 rows in one transaction, handed over in windows of 128 (the buffer, one sink batch), so that the sink
     * confirms everything handed over again and again before the transaction ends; the broker refuses its last 10
     * rows; SIGTERM; restart.
     */
    @ParameterizedTest
    @EnumSource(Source.class)
    void aLargeTransactionWhoseTailIsRefusedSurvivesSigterm(Source source) throws Exception {
        prepare(source);
        declareQueue(19_990);
        ChildJvm bridge = startBridge(Map.of("PGBRIDGE_BUFFER_MAX_EVENTS", "128"));
        insertOneTransaction(20_000);
        awaitRefusing(bridge, 19_990);

        bridge.terminate();
        long flushed = confirmedFlush();
        consume();
        await().atMost(WAIT).until(() -> received.size() == 19_990);
        if (source == Source.WAL) {
            assertThat(flushed)
                    .as("the slot does not pass the transaction (commit %s) whose tail was refused", commitLsn)
                    .isLessThanOrEqualTo(LogSequenceNumber.valueOf(commitLsn).asLong());
        }

        startBridge(Map.of());
        awaitEveryRow(20_000);
    }

    /** The same refusal of the tail, and SIGKILL instead of SIGTERM while the bridge retries. */
    @ParameterizedTest
    @EnumSource(Source.class)
    void aLargeTransactionWhoseTailIsRefusedSurvivesSigkill(Source source) throws Exception {
        prepare(source);
        declareQueue(19_990);
        ChildJvm bridge = startBridge(Map.of("PGBRIDGE_BUFFER_MAX_EVENTS", "128"));
        insertOneTransaction(20_000);
        awaitRefusing(bridge, 19_990);
        bridge.kill();

        consume();
        startBridge(Map.of());
        awaitEveryRow(20_000);
    }

    /**
     * 20,000 rows in one transaction; the broker stops taking them after 15,000, in its middle; SIGKILL while the
     * bridge retries; on restart a second refusal in the middle of the recovery (the consumer stops after making some
     * room) and a second SIGKILL; then the broker takes everything.
     */
    @ParameterizedTest
    @EnumSource(Source.class)
    void sigkillWhileRetryingInTheMiddleOfALargeTransactionAndAgainDuringRecoveryLosesNothing(Source source)
            throws Exception {
        prepare(source);
        declareQueue(15_000);
        ChildJvm first = startBridge(Map.of());
        insertOneTransaction(20_000);
        awaitRefusing(first, 15_000);
        first.kill();

        take(3_000); // room for 3,000 of the 5,000 rows never queued: the queue refuses again
        ChildJvm second = startBridge(Map.of());
        awaitRefusing(second, 15_000);
        second.kill();

        consume();
        startBridge(Map.of());
        awaitEveryRow(20_000);
    }

    private void awaitEveryRow(int rows) {
        await().atMost(WAIT).until(() -> received.size() == rows);
        List<Long> missing = new ArrayList<>();
        for (long id = 1; id <= rows; id++) {
            if (!received.containsKey(id)) {
                missing.add(id);
            }
        }
        assertThat(missing).as("rows lost").isEmpty();
    }

    /** The bridge has filled the queue and is retrying a row the broker nacked. */
    private void awaitRefusing(ChildJvm bridge, int queued) throws IOException {
        try {
            await().atMost(WAIT)
                    .until(() -> admin.queueDeclarePassive(name).getMessageCount() == queued
                            && bridge.log().contains("failed, retrying"));
        } catch (ConditionTimeoutException e) {
            String log = bridge.log();
            throw new AssertionError(
                    "expected " + queued + " messages in the queue and the bridge retrying; the queue holds "
                            + admin.queueDeclarePassive(name).getMessageCount() + ", " + received.size()
                            + " rows consumed; the bridge's log ends with:\n"
                            + log.substring(Math.max(0, log.length() - 6_000)),
                    e);
        }
    }

    private ChildJvm startBridge(Map<String, String> extra) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl());
        env.put("PGBRIDGE_UPSTREAM_URI", TestServices.amqpUrl());
        env.put("PGBRIDGE_WAL_STATUS_INTERVAL_MS", "200");
        env.put("PGBRIDGE_RETRY_MAX_BACKOFF_MS", "300");
        env.put("PGBRIDGE_SHUTDOWN_TIMEOUT_MS", "2000");
        if (source == Source.WAL) {
            env.put("PGBRIDGE_BRIDGE_CHANNELS", name + ".orders->queue:" + name);
            env.put("PGBRIDGE_WAL_SLOT", name);
        } else {
            env.put("PGBRIDGE_BRIDGE_CHANNELS", "orders->queue:" + name);
            env.put("PGBRIDGE_SOURCES", "outbox");
            env.put("PGBRIDGE_OUTBOX_MODE", "streaming");
            env.put("PGBRIDGE_OUTBOX_SCHEMA", name);
            env.put("PGBRIDGE_OUTBOX_REPLAY_AFTER_MS", "1000");
        }
        env.putAll(extra);
        Path log =
                Files.createDirectories(Path.of("target", "child-logs")).resolve(name + "-" + bridges.size() + ".log");
        ChildJvm bridge = ChildJvm.start(BridgeChild.class.getName(), env, List.of("-Xmx256m"), log);
        bridges.add(bridge);
        await().atMost(WAIT).until(() -> bridge.log().contains("BridgeChild: running"));
        return bridge;
    }

    private void declareQueue(int maxLength) throws IOException {
        admin.queueDeclare(name, true, false, false, Map.of("x-max-length", maxLength, "x-overflow", "reject-publish"));
    }

    /** Consumes the queue from now on, counting each row's deliveries. */
    private void consume() throws IOException {
        Channel channel = rabbit.createChannel();
        channel.basicQos(500);
        channel.basicConsume(name, false, new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
                    throws IOException {
                record(body);
                channel.basicAck(envelope.getDeliveryTag(), false);
            }
        });
    }

    /**
     * Takes exactly {@code count} messages off the queue ({@code basic.get}, one at a time), so exactly that much room
     * is made: a consumer cancelled once it has seen enough has taken more by then.
     */
    private void take(int count) throws IOException {
        Channel channel = rabbit.createChannel();
        try {
            for (int i = 0; i < count; i++) {
                GetResponse message = channel.basicGet(name, true);
                if (message == null) {
                    throw new AssertionError("the queue ran empty after " + i + " of " + count + " messages");
                }
                record(message.getBody());
            }
        } finally {
            channel.abort();
        }
    }

    private void record(byte[] body) throws IOException {
        JsonNode message = JSON.readTree(body);
        long id;
        if (source == Source.WAL) {
            commitLsn = message.get("lsn").asText();
            id = message.get("new").get("id").asLong();
        } else {
            id = message.get("id").asLong();
        }
        received.merge(id, 1, Integer::sum);
    }

    /** One transaction of realistic rows: uuid, text, numeric, jsonb, timestamptz. */
    private void insertOneTransaction(int rows) throws SQLException {
        String row = "i, gen_random_uuid(), 'order.created', (i * 7 % 100000) / 100.0, jsonb_build_object('customer',"
                + " i % 977, 'items', jsonb_build_array(i, 'sku-' || i), 'note', repeat('x', 120))";
        exec(
                source == Source.WAL
                        ? "INSERT INTO " + name + ".orders (id, ref, kind, amount, doc) SELECT " + row
                                + " FROM generate_series(1, " + rows + ") i"
                        : "SELECT " + name + ".send('orders', to_jsonb(o)) FROM (SELECT " + row
                                + ", clock_timestamp() AS at FROM generate_series(1, " + rows
                                + ") i) o(id, ref, kind, amount, doc, at)");
    }

    private long confirmedFlush() throws SQLException {
        try (PreparedStatement ps =
                pg.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
            }
        }
    }

    private long count(String sql) throws SQLException {
        try (Statement st = pg.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
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
