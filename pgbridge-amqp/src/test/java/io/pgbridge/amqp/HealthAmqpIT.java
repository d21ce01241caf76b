package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Health;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code PgBridge.health()} while NOTIFY events flow to RabbitMQ: ready, not ready within seconds of the broker
 * stopping (the route retries), ready again once it is back.
 */
class HealthAmqpIT {

    @Test
    void notReadyWithinSecondsOfRabbitMqStoppingAndReadyAgainWhenItReturns() throws Exception {
        String name =
                "pgb_health_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        AmqpAdmin.run(ch -> ch.queueDeclare(name, true, false, false, null));
        AtomicBoolean producing = new AtomicBoolean(true);
        Thread producer = new Thread(() -> {
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                for (int i = 0; producing.get(); i++) {
                    st.execute("NOTIFY " + name + ", 'event " + i + "'");
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.amqpUrl())
                .routes(name + "->queue:" + name)
                .setting("amqp.recovery-interval-ms", "500")
                .setting("amqp.confirm-timeout-ms", "3000")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(2))
                .build()) {
            bridge.start();
            producer.start();
            await().atMost(Duration.ofSeconds(20)).until(() -> bridge.stats().delivered() > 10);
            Health before = bridge.health();
            assertThat(before.ready()).as("ready: %s", before.problems()).isTrue();

            long stopped;
            try {
                TestServices.stop(TestServices.Service.AMQP);
                stopped = System.nanoTime();
                await().atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> !bridge.health().ready());
                long notReadyMs = (System.nanoTime() - stopped) / 1_000_000;
                Health down = bridge.health();
                assertThat(down.live()).as("still live").isTrue();
                assertThat(down.problems()).as("the route retries").anySatisfy(p -> assertThat(p)
                        .startsWith("route " + name + "->queue:" + name + " is RETRYING"));
                System.out.println("not ready " + notReadyMs + " ms after RabbitMQ stopped: " + down.problems());
            } finally {
                TestServices.start(TestServices.Service.AMQP);
            }
            long started = System.nanoTime();
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> bridge.health().ready());
            System.out.println(
                    "ready again " + (System.nanoTime() - started) / 1_000_000 + " ms after RabbitMQ was started");
            long delivered = bridge.stats().delivered();
            await().atMost(Duration.ofSeconds(20)).until(() -> bridge.stats().delivered() > delivered);
        } finally {
            producing.set(false);
            producer.join(5000);
            AmqpAdmin.run(ch -> ch.queueDelete(name));
        }
    }
}
