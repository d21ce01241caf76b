package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.pgbridge.PgBridge;
import io.pgbridge.RouteState;
import io.pgbridge.RouteStats;
import io.pgbridge.testkit.TestServices;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two routes on one WAL source; RabbitMQ refuses everything on one of them for a minute while rows keep coming on
 * both. The other route keeps delivering all the while, the stuck one is visible in {@code stats()}, and once it is
 * unblocked every row arrives and the pipeline's room returns to zero.
 */
class WalRouteIsolationIT {
    private static final Duration WAIT = Duration.ofMinutes(2);
    /** A minute of the producer below: 20 rows a second into each table. */
    private static final int ROWS_DURING_THE_BLOCK = 1_200;

    private final String name =
            "wal_iso_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicInteger produced = new AtomicInteger();
    private java.sql.Connection pg;
    private Connection rabbit;
    private Channel admin;
    private PgBridge bridge;

    @BeforeEach
    void setUp() throws Exception {
        pg = TestServices.postgresConnection();
        exec(
                "CREATE SCHEMA " + name,
                "CREATE TABLE " + name + ".a (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), doc jsonb)",
                "CREATE TABLE " + name + ".b (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), doc jsonb)");
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        rabbit = factory.newConnection("pgbridge-it-admin");
        admin = rabbit.createChannel();
        // queue a refuses every message (RabbitMQ nacks them); queue b takes everything
        admin.queueDeclare(name + "_a", true, false, false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
        admin.queueDeclare(name + "_b", true, false, false, null);
    }

    @AfterEach
    void tearDown() throws Exception {
        producer.shutdownNow();
        if (bridge != null) {
            bridge.close();
        }
        exec(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + name + "'",
                "DROP PUBLICATION IF EXISTS " + name,
                "DROP SCHEMA " + name + " CASCADE");
        pg.close();
        admin.queueDelete(name + "_a");
        admin.queueDelete(name + "_b");
        rabbit.close();
    }

    @Test
    void aRouteStuckForAMinuteHoldsBackNeitherTheOtherRouteNorRoom() throws Exception {
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.amqpUrl())
                .routes(name + ".a->queue:" + name + "_a, " + name + ".b->queue:" + name + "_b")
                .setting("wal.slot", name)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(1000))
                .build();
        bridge.start();
        producer.scheduleAtFixedRate(this::insertBoth, 0, 50, TimeUnit.MILLISECONDS);

        Set<Integer> onB = new HashSet<>();
        await().atMost(WAIT).until(() -> produced.get() >= ROWS_DURING_THE_BLOCK);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            drain(name + "_b", onB);
            assertThat(onB)
                    .as("route b kept delivering while route a was stuck")
                    .hasSizeGreaterThanOrEqualTo(ROWS_DURING_THE_BLOCK);
        });
        RouteStats a = route(".a");
        assertThat(a.state()).isEqualTo(RouteState.RETRYING);
        assertThat(a.attempts()).isGreaterThan(10);
        assertThat(a.lastError()).contains("nack");
        assertThat(a.since()).isNotNull();
        assertThat(route(".b").state()).isEqualTo(RouteState.DELIVERING);

        producer.shutdown();
        assertThat(producer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        admin.queueDelete(name + "_a"); // unblock: the same queue without its length limit
        admin.queueDeclare(name + "_a", true, false, false, null);

        Set<Integer> onA = new HashSet<>();
        await().atMost(WAIT).untilAsserted(() -> {
            drain(name + "_a", onA);
            drain(name + "_b", onB);
            assertThat(onA).as("every row of a").hasSize(produced.get());
            assertThat(onB).as("every row of b").hasSize(produced.get());
        });
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(bridge.stats().inFlightEvents()).as("room back to zero").isZero();
            assertThat(bridge.stats().inFlightBytes()).isZero();
            assertThat(route(".a").state()).isEqualTo(RouteState.DELIVERING);
        });
    }

    private RouteStats route(String suffix) {
        return bridge.stats().routes().stream()
                .filter(r -> r.route().channel().endsWith(suffix))
                .findFirst()
                .orElseThrow();
    }

    private void insertBoth() {
        int id = produced.get() + 1;
        try {
            exec("WITH a AS (INSERT INTO " + name + ".a (id, doc) VALUES (" + id + ", '{\"n\": " + id + "}'))"
                    + " INSERT INTO " + name + ".b (id, doc) VALUES (" + id + ", '{\"n\": " + id + "}')");
            produced.set(id);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Takes every message waiting in {@code queue}, adding the row ids to {@code ids}. */
    private void drain(String queue, Set<Integer> ids) throws Exception {
        for (GetResponse r = admin.basicGet(queue, true); r != null; r = admin.basicGet(queue, true)) {
            String body = new String(r.getBody(), java.nio.charset.StandardCharsets.UTF_8);
            int at = body.indexOf("\"new\":{\"id\":") + "\"new\":{\"id\":".length();
            ids.add(Integer.parseInt(body.substring(at, body.indexOf(',', at))));
        }
    }

    private void exec(String... statements) throws SQLException {
        synchronized (this) {
            try (Statement st = pg.createStatement()) {
                for (String s : statements) {
                    st.execute(s);
                }
            }
        }
    }
}
