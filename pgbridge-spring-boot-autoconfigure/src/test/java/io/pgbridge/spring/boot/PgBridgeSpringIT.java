package io.pgbridge.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.pgbridge.testkit.TestServices;
import io.pgbridge.testkit.TestServices.Service;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The starter against real services (use the private ones: this test stops and starts RabbitMQ through
 * PGBRIDGE_TEST_AMQP_STOP/START): the outbox source in polling mode, the application's DataSource and transactions,
 * the AMQP sink. An event written in a committed transaction arrives, one in a rolled-back transaction never exists;
 * the health indicator is DOWN while RabbitMQ is stopped and UP again after.
 */
class PgBridgeSpringIT {
    @Test
    void committedOutboxEventsArriveRolledBackOnesDoNotAndHealthFollowsTheBroker() throws Exception {
        String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        String channel = "spring_it_" + suffix;
        long streamId = ThreadLocalRandom.current().nextLong(1_000_000, 1L << 40);
        String queue = "pgbridge-spring-it-" + suffix;
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        try (com.rabbitmq.client.Connection amqp = factory.newConnection();
                Channel ch = amqp.createChannel()) {
            ch.queueDeclare(queue, true, false, false, null);
        }
        new ApplicationContextRunner()
                .withConfiguration(
                        AutoConfigurations.of(PgBridgeAutoConfiguration.class, PgBridgeHealthAutoConfiguration.class))
                .withUserConfiguration(Database.class)
                .withPropertyValues(
                        "pgbridge.postgres.uri=" + TestServices.postgresUrl(),
                        "pgbridge.upstream=" + TestServices.amqpUrl(),
                        "pgbridge.routes=" + channel + "->queue:" + queue,
                        "pgbridge.sources=outbox",
                        "pgbridge.outbox.mode=polling",
                        // a stream of its own: no other bridge polling the same database claims these events
                        "pgbridge.outbox.stream-id=" + streamId,
                        "pgbridge.outbox.poll-interval=100ms",
                        "pgbridge.pipeline.retry-max-backoff=1s")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    OutboxPublisher outbox = context.getBean(OutboxPublisher.class);
                    TransactionTemplate tx =
                            new TransactionTemplate(context.getBean(DataSourceTransactionManager.class));
                    JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));

                    // rolled back first: had it been delivered, it would come before the committed one
                    long rolledBack = tx.execute(status -> {
                        long id = outbox.send(channel, "{\"order\": 1}", "order.created", Map.of("tenant", "t1"));
                        status.setRollbackOnly();
                        return id;
                    });
                    long committed = tx.execute(
                            status -> outbox.send(channel, "{\"order\": 2}", "order.created", Map.of("tenant", "t1")));
                    assertThat(committed).isGreaterThan(rolledBack);

                    List<String> received = new ArrayList<>();
                    await().atMost(Duration.ofSeconds(20)).until(() -> {
                        received.addAll(drain(factory, queue));
                        return !received.isEmpty();
                    });
                    assertThat(received).containsExactly("{\"order\": 2}");
                    assertThat(jdbc.queryForObject(
                                    "select count(*) from pgbridge.events where channel = ? and stream_id = ?",
                                    Long.class,
                                    channel,
                                    streamId))
                            .as("the rolled-back event never existed; the delivered one is gone")
                            .isZero();

                    HealthIndicator health = context.getBean("pgbridgeHealthIndicator", HealthIndicator.class);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> health.health().getStatus().equals(Status.UP));
                    TestServices.stop(Service.AMQP);
                    try {
                        tx.execute(status -> outbox.send(channel, "{\"order\": 3}", null, null));
                        await().atMost(Duration.ofSeconds(30))
                                .until(() -> health.health().getStatus().equals(Status.DOWN));
                        assertThat(health.health().getDetails().get("problems").toString())
                                .contains(queue);
                    } finally {
                        TestServices.start(Service.AMQP);
                    }
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> health.health().getStatus().equals(Status.UP));
                    await().atMost(Duration.ofSeconds(30)).until(() -> {
                        received.addAll(drain(factory, queue));
                        return received.size() == 2;
                    });
                    assertThat(received).containsExactly("{\"order\": 2}", "{\"order\": 3}");
                });
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

    /** The application's DataSource and transaction manager. */
    @Configuration(proxyBeanMethods = false)
    static class Database {
        @Bean
        DataSource dataSource() {
            return TestServices.postgresDataSource();
        }

        @Bean
        DataSourceTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }
    }
}
