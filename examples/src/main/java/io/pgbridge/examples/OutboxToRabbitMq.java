package io.pgbridge.examples;

import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.sql.PgBridgeSchema;
import java.time.Duration;

/**
 * The durable path: installs the {@code pgbridge} schema, then delivers what is written with {@code pgbridge.send}
 * (or by triggers generated from {@code pgbridge.subscriptions}) to RabbitMQ, at least once, in commit order.
 *
 * <p>Run it with PostgreSQL ({@code wal_level=logical}, a role with REPLICATION) and RabbitMQ on localhost (or set
 * {@code PGBRIDGE_POSTGRESQL_URI} and {@code PGBRIDGE_UPSTREAM_URI}), then in psql:
 *
 * <pre>{@code
 * begin;
 * select pgbridge.send('orders', '{"id": 42, "total": 99.5}'::jsonb, 'order.created');
 * commit;
 * }</pre>
 *
 * The event reaches the {@code amq.topic} exchange with routing key {@code order.created} and message id the outbox
 * row id. Without logical replication, set {@code outbox.mode} to {@code polling}.
 */
public final class OutboxToRabbitMq {
    public static void main(String[] args) throws InterruptedException {
        String postgres = env("PGBRIDGE_POSTGRESQL_URI", "postgresql://postgres@localhost:5432/postgres");
        String rabbit = env("PGBRIDGE_UPSTREAM_URI", "amqp://guest:guest@localhost:5672/%2f");

        PgBridgeConfig config = PgBridgeConfig.fromEnvironment()
                .with("postgresql.uri", postgres)
                .with("upstream.uri", rabbit)
                .with("bridge.channels", "orders->exchange:amq.topic")
                .with("sources", "outbox")
                .with("outbox.mode", "streaming");
        PgBridgeSchema.migrate(config); // idempotent: creates or upgrades the pgbridge schema
        try (PgBridge bridge = config.toBuilder().build()) {
            bridge.start();
            Runtime.getRuntime().addShutdownHook(new Thread(bridge::close));
            System.out.println("Delivering pgbridge.send('orders', ...) to RabbitMQ; press Ctrl-C to stop.");
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
