package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.server.Distribution.Run;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/pgbridge run} bridging a WAL source to RabbitMQ with its management endpoint: {@code /metrics} counts
 * exactly the changes committed, {@code /health/ready} turns 503 within seconds of RabbitMQ stopping (the private node
 * of {@code PGBRIDGE_TEST_AMQP_STOP}) and 200 again once it is back, and the progress line appears while events flow.
 */
class ManagementIT {
    private static final int TRANSACTIONS = 20;
    private static final int ROWS_PER_TRANSACTION = 250;
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name =
            "mgmt_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String table = name + ".items";
    private final String route = table + "->queue:" + name;
    private int port; // the endpoint's, chosen by the runner
    private Run run;

    @BeforeEach
    void createTableAndQueue() throws Exception {
        sql("CREATE SCHEMA " + name, "CREATE TABLE " + table + " (id int PRIMARY KEY, n int)");
        amqp(ch -> ch.queueDeclare(name, true, false, false, null));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (run != null) {
            run.process.destroy();
            if (!run.process.waitFor(60, TimeUnit.SECONDS)) {
                run.process.destroyForcibly();
            }
        }
        sql(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + name + "'",
                "DROP PUBLICATION IF EXISTS " + name,
                "DROP SCHEMA IF EXISTS " + name + " CASCADE");
        amqp(ch -> ch.queueDelete(name));
    }

    @Test
    void metricsCountTheChangesCommittedAndTheProgressLineShowsThem() throws Exception {
        start();
        for (int tx = 0; tx < TRANSACTIONS; tx++) {
            int from = tx * ROWS_PER_TRANSACTION;
            sql("INSERT INTO " + table + " SELECT g, 0 FROM generate_series(" + from + ", "
                    + (from + ROWS_PER_TRANSACTION - 1) + ") g");
        }
        int changes = TRANSACTIONS * ROWS_PER_TRANSACTION;

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            String metrics = get("/metrics").body();
            assertThat(sample(metrics, "pgbridge_events_received_events_total", "source=\"wal\""))
                    .as("received\n%s", metrics)
                    .hasValue(changes);
            assertThat(sample(metrics, "pgbridge_events_delivered_events_total", "route=\"" + route + "\""))
                    .as("delivered")
                    .hasValue(changes);
        });
        long asked = System.nanoTime();
        HttpResponse<String> scrape = get("/metrics");
        System.out.println("/metrics: " + scrape.body().length() + " characters in "
                + (System.nanoTime() - asked) / 1_000 + " µs");
        assertThat(scrape.headers().firstValue("Content-Type")).hasValue(ManagementServer.PROMETHEUS_TEXT);
        String metrics = scrape.body();
        assertThat(sample(metrics, "pgbridge_events_retried_events_total", "route=\"" + route + "\""))
                .hasValue(0);
        assertThat(sample(metrics, "pgbridge_source_state", "state=\"reading\""))
                .hasValue(1);
        assertThat(sample(metrics, "pgbridge_delivery_latency_seconds_count", "route=\"" + route + "\"")
                        .orElseThrow())
                .as("commit-to-confirm samples: one per transaction in each confirmed batch (docs/operations.md)")
                .isBetween((double) TRANSACTIONS, (double) changes);
        assertThat(metrics.lines().filter(l -> l.startsWith("pgbridge_")))
                .as("every pgbridge sample names the bridge (PGBRIDGE_BRIDGE_NAME)")
                .isNotEmpty()
                .allSatisfy(l -> assertThat(l).contains("bridge=\"" + name + "\""));
        assertThat(metrics).as("the JVM's meters too").contains("jvm_memory_used_bytes");
        assertThat(messagesIn(name)).as("RabbitMQ holds them").isEqualTo(changes);

        await().atMost(Duration.ofSeconds(10))
                .until(() -> run.read().stderr.stream().anyMatch(l -> l.contains("progress: ")));
        assertThat(run.stderr)
                .filteredOn(l -> l.contains("progress: "))
                .first()
                .asString()
                .containsPattern("progress: [0-9.]+ events/s \\(\\d+ delivered in \\d+ s\\), \\d+ received, "
                        + "lag wal=\\d+ bytes, \\d+ in flight, \\d+ retries");
        assertThat(run.stdout).as("stdout holds events only").isEmpty();
    }

    @Test
    void readyTurnsNotReadyWithinSecondsOfRabbitMqStoppingAndReadyAgainWhenItReturns() throws Exception {
        start();
        AtomicBoolean producing = new AtomicBoolean(true);
        Thread producer = new Thread(() -> {
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                for (int i = 0; producing.get(); i++) {
                    st.execute("INSERT INTO " + table + " VALUES (" + i + ", 0)");
                    Thread.sleep(20); // a steady stream, not a wait for a condition
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        producer.start();
        try {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(sample(
                                        get("/metrics").body(),
                                        "pgbridge_events_delivered_events_total",
                                        "route=\"" + route + "\"")
                                .orElse(0))
                        .isGreaterThan(10);
                assertThat(get("/health/ready").statusCode()).isEqualTo(200);
            });
            HttpResponse<String> ready = get("/health/ready");
            assertThat(JSON.readTree(ready.body()).get("status").asText()).isEqualTo("UP");
            assertThat(ready.headers().firstValue("Content-Type")).hasValue("application/json");

            long stopped;
            try {
                TestServices.stop(TestServices.Service.AMQP);
                stopped = System.nanoTime();
                await().atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> get("/health/ready").statusCode() == 503);
                long notReadyMs = (System.nanoTime() - stopped) / 1_000_000;
                JsonNode down = JSON.readTree(get("/health/ready").body());
                assertThat(down.get("status").asText()).isEqualTo("DOWN");
                assertThat(down.get("state").asText()).isEqualTo("RUNNING");
                assertThat(down.get("problems")).as("the route retries").anySatisfy(p -> assertThat(p.asText())
                        .startsWith("route " + route + " is RETRYING"));
                HttpResponse<String> live = get("/health/live");
                assertThat(live.statusCode()).as("still live: %s", live.body()).isEqualTo(200);
                System.out.println("/health/ready 503 " + notReadyMs + " ms after RabbitMQ stopped: " + down);
            } finally {
                TestServices.start(TestServices.Service.AMQP);
            }
            long started = System.nanoTime();
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> get("/health/ready").statusCode() == 200);
            System.out.println(
                    "/health/ready 200 " + (System.nanoTime() - started) / 1_000_000 + " ms after RabbitMQ started");
        } finally {
            producing.set(false);
            producer.join(5000);
        }
        assertThat(get("/nothing").statusCode()).isEqualTo(404);
    }

    /** Starts {@code bin/pgbridge run} and waits until the endpoint says it is up. */
    private void start() throws Exception {
        run = Run.start(Map.ofEntries(
                Map.entry("PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl()),
                Map.entry("PGBRIDGE_UPSTREAM_URI", TestServices.amqpUrl()),
                Map.entry("PGBRIDGE_SOURCES", "wal"),
                Map.entry("PGBRIDGE_BRIDGE_NAME", name),
                Map.entry("PGBRIDGE_BRIDGE_CHANNELS", route),
                Map.entry("PGBRIDGE_WAL_SLOT", name),
                Map.entry("PGBRIDGE_WAL_HEARTBEAT_INTERVAL_MS", "200"),
                Map.entry("PGBRIDGE_AMQP_RECOVERY_INTERVAL_MS", "500"),
                Map.entry("PGBRIDGE_AMQP_CONFIRM_TIMEOUT_MS", "3000"),
                Map.entry("PGBRIDGE_RETRY_MAX_BACKOFF_MS", "500"),
                Map.entry("PGBRIDGE_MANAGEMENT_PORT", "0"), // any free port: the log line names it
                Map.entry("PGBRIDGE_PROGRESS_INTERVAL_MS", "1000")));
        Pattern endpoint = Pattern.compile("Management endpoint on http://127\\.0\\.0\\.1:(\\d+): ");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> run.read().stderr.stream()
                                .anyMatch(l -> endpoint.matcher(l).find())
                        || !run.process.isAlive());
        run.stderr.stream()
                .map(endpoint::matcher)
                .filter(Matcher::find)
                .forEach(m -> port = Integer.parseInt(m.group(1)));
        assertThat(run.process.isAlive()).as("pgbridge runs\n%s", run).isTrue();
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The value of the one sample named {@code name} in a Prometheus text scrape whose labels hold {@code label}; empty
     * when there is none.
     */
    static OptionalDouble sample(String scrape, String name, String label) {
        return scrape.lines()
                .filter(l -> l.startsWith(name + "{") && l.contains(label))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .reduce((a, b) -> {
                    throw new IllegalStateException("several samples of " + name + " with " + label);
                });
    }

    private static long messagesIn(String queue) throws Exception {
        long[] count = new long[1];
        amqp(ch -> count[0] = ch.queueDeclarePassive(queue).getMessageCount());
        return count[0];
    }

    @FunctionalInterface
    private interface AmqpAction {
        void run(Channel channel) throws Exception;
    }

    private static void amqp(AmqpAction action) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        factory.setAutomaticRecoveryEnabled(false);
        try (com.rabbitmq.client.Connection c = factory.newConnection("pgbridge-management-it");
                Channel ch = c.createChannel()) {
            action.run(ch);
        }
    }

    private static void sql(String... statements) throws Exception {
        try (Connection c = TestServices.postgresConnection();
                Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }
}
