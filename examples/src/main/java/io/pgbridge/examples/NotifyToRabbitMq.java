package io.pgbridge.examples;

import io.pgbridge.PgBridge;
import java.time.Duration;

/**
 * Bridges PostgreSQL NOTIFY to RabbitMQ, the seed's main use: {@code NOTIFY events, 'signup|A new user signup'}
 * publishes {@code A new user signup} to the {@code amq.topic} exchange with routing key {@code signup}.
 *
 * <p>Run it from an IDE with PostgreSQL and RabbitMQ on localhost (or set {@code PGBRIDGE_POSTGRESQL_URI} and
 * {@code PGBRIDGE_UPSTREAM_URI}), then in psql: {@code NOTIFY events, 'signup|A new user signup';}. Needs
 * {@code pgbridge-amqp} on the class path: the {@code amqp://} scheme selects its sink.
 */
public final class NotifyToRabbitMq {
    public static void main(String[] args) throws InterruptedException {
        String postgres = env("PGBRIDGE_POSTGRESQL_URI", "postgresql://postgres@localhost:5432/postgres");
        String rabbit = env("PGBRIDGE_UPSTREAM_URI", "amqp://guest:guest@localhost:5672/%2f");

        try (PgBridge bridge = PgBridge.builder()
                .postgres(postgres)
                .upstream(rabbit)
                .routes("events->exchange:amq.topic, jobs->queue:jobs")
                .build()) {
            bridge.start();
            Runtime.getRuntime().addShutdownHook(new Thread(bridge::close));
            System.out.println("Bridging NOTIFY events/jobs to RabbitMQ; press Ctrl-C to stop.");
            while (!bridge.awaitTermination(Duration.ofMinutes(1))) {
                System.out.println(bridge.stats());
            }
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
