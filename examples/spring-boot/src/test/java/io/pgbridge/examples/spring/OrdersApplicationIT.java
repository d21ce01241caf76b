package io.pgbridge.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import io.pgbridge.testkit.TestServices.Service;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.callback.Callback;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The example application against the test PostgreSQL and RabbitMQ: a committed order's event arrives in RabbitMQ, a
 * refused (rolled-back) order's never does; {@code /actuator/health} is DOWN (503) while RabbitMQ is stopped (use the
 * private services: PGBRIDGE_TEST_AMQP_STOP/START) and UP after, and the order placed meanwhile arrives.
 */
class OrdersApplicationIT {
    @Test
    void aCommittedOrderIsDeliveredARolledBackOneIsNot() throws Exception {
        String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        String queue = "pgbridge-example-" + suffix;
        long streamId = ThreadLocalRandom.current().nextLong(1_000_000, 1L << 40);
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        try (com.rabbitmq.client.Connection amqp = factory.newConnection();
                Channel ch = amqp.createChannel()) {
            ch.queueDeclare(queue, true, false, false, null);
        }
        URI pg = URI.create(TestServices.postgresUrl());
        String[] userInfo = pg.getUserInfo().split(":", 2);
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0",
                "--spring.datasource.url=jdbc:postgresql://" + pg.getHost() + ":" + pg.getPort() + pg.getPath(),
                "--spring.datasource.username=" + userInfo[0],
                "--pgbridge.upstream=" + TestServices.amqpUrl(),
                "--pgbridge.routes=orders->queue:" + queue,
                "--pgbridge.outbox.stream-id=" + streamId,
                "--pgbridge.outbox.poll-interval=100ms"));
        if (userInfo.length > 1) {
            args.add("--spring.datasource.password=" + userInfo[1]);
        }
        try (ConfigurableApplicationContext app =
                SpringApplication.run(OrdersApplication.class, args.toArray(String[]::new))) {
            assertThat(app.getBean(Flyway.class).getConfiguration().getCallbacks())
                    .as("the outbox schema goes through the application's Flyway")
                    .extracting(Callback::getCallbackName)
                    .contains("pgbridge-schema");
            JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
            assertThat(jdbc.queryForObject(
                            "select count(*) from pgbridge.pgbridge_schema_history where version is not null",
                            Integer.class))
                    .as("pgbridge's scripts, in pgbridge's own history")
                    .isEqualTo(PgBridgeSchema.scripts(PgBridgeSchema.DEFAULT_SCHEMA).size());
            String base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
            HttpClient http = HttpClient.newHttpClient();
            long refusedId = ThreadLocalRandom.current().nextLong(1L << 40);
            long orderId = refusedId + 1;
            HttpResponse<String> refused = post(http, base + "/orders?id=" + refusedId + "&total=-1");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
            assertThat(refused.body()).contains("total must not be negative");
            HttpResponse<String> placed = post(http, base + "/orders?id=" + orderId + "&total=99.5");
            assertThat(placed.statusCode()).as(placed.body()).isEqualTo(200);

            List<String> received = new ArrayList<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                received.addAll(drain(factory, queue));
                return !received.isEmpty();
            });
            assertThat(received).containsExactly("{\"id\": " + orderId + ", \"total\": 99.5}");

            await().atMost(Duration.ofSeconds(10))
                    .until(() -> health(http, base).statusCode() == 200);
            assertThat(health(http, base).body()).contains("\"pgbridge\"");

            // RabbitMQ stopped: an order placed meanwhile makes the route retry, and the health endpoint says DOWN
            long duringOutage = orderId + 1;
            TestServices.stop(Service.AMQP);
            try {
                assertThat(post(http, base + "/orders?id=" + duringOutage + "&total=1")
                                .statusCode())
                        .isEqualTo(200);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> health(http, base).statusCode() == 503);
                assertThat(health(http, base).body()).contains("\"pgbridge\"").contains("DOWN");
            } finally {
                TestServices.start(Service.AMQP);
            }
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> health(http, base).statusCode() == 200);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                received.addAll(drain(factory, queue));
                return received.size() == 2;
            });
            assertThat(received.get(1)).isEqualTo("{\"id\": " + duringOutage + ", \"total\": 1}");
        }
    }

    private static HttpResponse<String> health(HttpClient http, String base) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(base + "/actuator/health")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(HttpClient http, String uri) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(uri))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> drain(ConnectionFactory factory, String queue) throws Exception {
        List<String> bodies = new ArrayList<>();
        try (com.rabbitmq.client.Connection amqp = factory.newConnection();
                Channel ch = amqp.createChannel()) {
            for (GetResponse r = ch.basicGet(queue, true); r != null; r = ch.basicGet(queue, true)) {
                bodies.add(new String(r.getBody(), StandardCharsets.UTF_8));
            }
        }
        return bodies;
    }
}
