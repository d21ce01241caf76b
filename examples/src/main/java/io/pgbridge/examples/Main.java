package io.pgbridge.examples;

import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.sql.PgBridgeSchema;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job: runs a bridge configured from {@code PGBRIDGE_*} environment variables (or a properties file) until
 * it is stopped. When the outbox source is selected ({@code PGBRIDGE_SOURCES=outbox}) it first installs or upgrades
 * the {@code pgbridge} schema.
 *
 * <p>On a fresh machine with nothing configured it shows pgbridge working instead: it starts an embedded
 * PostgreSQL, routes the {@code events} channel to the logging sink (JSON lines on standard output), raises a few
 * sample {@code NOTIFY events, ...} itself, and exits once they were delivered.
 */
@Command(
        name = "pgbridge",
        mixinStandardHelpOptions = true,
        description = "Moves events from PostgreSQL to brokers. Settings come from PGBRIDGE_* environment variables "
                + "(see README.md) or --config.")
public final class Main implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    private static final String DEMO_CHANNEL = "events";
    private static final List<String> DEMO_PAYLOADS = List.of(
            "signup|A new user signup",
            "order.created|{\"order_id\": 42, \"total\": 99.50, \"currency\": \"EUR\"}",
            "Plain text, any Unicode: héllo 👋");

    @Option(names = "--config", description = "A properties file with pgbridge settings, instead of the environment")
    private Path config;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PgBridgeConfig settings =
                config != null ? PgBridgeConfig.fromProperties(config) : PgBridgeConfig.fromEnvironment();
        if (settings.isSet("postgresql.uri")) {
            return runUntilStopped(settings);
        }
        return demo(settings);
    }

    private static int runUntilStopped(PgBridgeConfig settings) throws InterruptedException {
        PgBridge bridge;
        try {
            if (runsOutbox(settings)) {
                int applied = PgBridgeSchema.migrate(settings);
                log.info("pgbridge schema ready ({} migration(s) applied)", applied);
            }
            bridge = settings.toBuilder().build();
        } catch (ConfigurationException e) {
            log.error(e.getMessage());
            return 2;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(bridge::close, "pgbridge-shutdown"));
        bridge.start();
        bridge.awaitTermination(Duration.ofDays(365_000));
        return bridge.state() == PgBridge.State.FAILED ? 1 : 0;
    }

    private static boolean runsOutbox(PgBridgeConfig settings) {
        String sources = settings.get("sources");
        return sources != null
                && Arrays.stream(sources.split(",")).anyMatch(s -> s.trim().equals("outbox"));
    }

    private static int demo(PgBridgeConfig settings) throws IOException, SQLException, InterruptedException {
        log.info("PGBRIDGE_POSTGRESQL_URI is not set: starting an embedded PostgreSQL to show pgbridge at work");
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("synchronous_commit", "on")
                .start()) {
            PgBridgeConfig demo = settings.with(
                    "postgresql.uri", "postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
            if (!demo.isSet("bridge.channels")) {
                demo = demo.with("bridge.channels", DEMO_CHANNEL + "->exchange:amq.topic");
            }
            try (PgBridge bridge = demo.toBuilder().build()) {
                bridge.start();
                try (Connection c = postgres.getPostgresDatabase().getConnection();
                        PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                    for (String payload : DEMO_PAYLOADS) {
                        log.info("NOTIFY {}, '{}'", DEMO_CHANNEL, payload);
                        notify.setString(1, DEMO_CHANNEL);
                        notify.setString(2, payload);
                        notify.execute();
                    }
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (bridge.stats().delivered() < DEMO_PAYLOADS.size() && System.nanoTime() < deadline) {
                    Thread.sleep(50); // polling the bridge's own counter, bounded by the deadline
                }
                long delivered = bridge.stats().delivered();
                log.info(
                        "Demo done: {} of {} sample events delivered. Set PGBRIDGE_POSTGRESQL_URI, "
                                + "PGBRIDGE_UPSTREAM_URI and PGBRIDGE_BRIDGE_CHANNELS to bridge your own database.",
                        delivered,
                        DEMO_PAYLOADS.size());
                return delivered == DEMO_PAYLOADS.size() ? 0 : 1;
            }
        }
    }
}
