package io.pgbridge.server.demo;

import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo: an embedded PostgreSQL (logical WAL, synchronous commit), the {@code events} channel routed to the
 * configured sink (the logging sink by default), three sample {@code NOTIFY events, ...}, and an exit once they were
 * delivered. Loaded by {@code DemoCommand} through the class loader that sees the embedded PostgreSQL.
 */
public final class Demo implements Function<PgBridgeConfig, Integer> {
    private static final Logger log = LoggerFactory.getLogger("pgbridge");
    private static final String CHANNEL = "events";
    private static final List<String> PAYLOADS = List.of(
            "signup|A new user signup",
            "order.created|{\"order_id\": 42, \"total\": 99.50, \"currency\": \"EUR\"}",
            "Plain text, any Unicode: héllo 👋");
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(30);

    /** @return 0 when every sample event was delivered, 1 otherwise */
    @Override
    public Integer apply(PgBridgeConfig settings) {
        log.info("Starting an embedded PostgreSQL to show pgbridge at work");
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("synchronous_commit", "on")
                .start()) {
            PgBridgeConfig demo = settings.with(
                    "postgresql.uri", "postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
            if (!demo.isSet("bridge.channels")) {
                demo = demo.with("bridge.channels", CHANNEL + "->exchange:amq.topic");
            }
            try (PgBridge bridge = demo.toBuilder().build()) {
                bridge.start();
                try (Connection c = postgres.getPostgresDatabase().getConnection();
                        PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                    for (String payload : PAYLOADS) {
                        log.info("NOTIFY {}, '{}'", CHANNEL, payload);
                        notify.setString(1, CHANNEL);
                        notify.setString(2, payload);
                        notify.execute();
                    }
                }
                long deadline = System.nanoTime() + DELIVERY_TIMEOUT.toNanos();
                while (bridge.stats().delivered() < PAYLOADS.size() && System.nanoTime() < deadline) {
                    Thread.sleep(50); // polling the bridge's own counter, bounded by the deadline
                }
                long delivered = bridge.stats().delivered();
                log.info(
                        "Demo done: {} of {} sample events delivered. Set PGBRIDGE_POSTGRESQL_URI, "
                                + "PGBRIDGE_UPSTREAM_URI and PGBRIDGE_BRIDGE_CHANNELS to bridge your own database "
                                + "(pgbridge check tests them first)",
                        delivered,
                        PAYLOADS.size());
                return delivered == PAYLOADS.size() ? 0 : 1;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("The embedded PostgreSQL did not start: " + e.getMessage(), e);
        } catch (SQLException e) {
            throw new IllegalStateException("The demo's NOTIFY failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }
}
