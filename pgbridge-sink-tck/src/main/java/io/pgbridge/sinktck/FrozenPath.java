package io.pgbridge.sinktck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.testkit.TcpRelay;
import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A route whose network path to the broker freezes: every open connection through a {@link TcpRelay} stops carrying
 * bytes both ways without closing (a dead NAT entry, a pulled cable), while new connections get through. The route
 * must deliver again through a new connection, within a bound shorter than the broker's own idle timeouts, instead of
 * waiting on replies that can never come. Found by pgbridge-chaos for the Redis, AMQP and MQTT sinks.
 */
public final class FrozenPath {
    /** How long the message sent after the freeze may take: the sink's own detection, then a reconnect. */
    public static final Duration RECOVERY = Duration.ofSeconds(40);

    private FrozenPath() {}

    /**
     * Starts a bridge whose NOTIFY channel is routed to {@code target} through a relay in front of {@code upstreamUri}'s
     * host and port, NOTIFYs {@code before}, freezes the relay's open connections, NOTIFYs {@code during} and, once it
     * arrived, {@code after}; asserts all three arrived in order, each within {@link #RECOVERY}, and that the sink opened
     * a new connection. Uses {@link TestServices#postgresUrl()}.
     *
     * @param upstreamUri the broker's URI as the bridge would be given it; its {@code :port} is replaced by the relay's
     * @param target the route's target, such as {@code stream:name}
     * @param settings more {@code PGBRIDGE_*} variables, typically a short publish timeout
     * @param receiver the consumer of {@code target}, already receiving
     */
    public static void assertRouteDeliversAgainAfterItsPathFroze(
            String upstreamUri, String target, Map<String, String> settings, Receiver receiver) throws Exception {
        String channel =
                "pgb_frozen_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        URI upstream = URI.create(upstreamUri);
        try (TcpRelay path = new TcpRelay(upstream.getHost(), upstream.getPort())) {
            Map<String, String> env = new HashMap<>(settings);
            env.put("PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl());
            env.put("PGBRIDGE_UPSTREAM_URI", upstreamUri.replace(":" + upstream.getPort(), ":" + path.port()));
            env.put("PGBRIDGE_BRIDGE_CHANNELS", channel + "->" + target);
            env.putIfAbsent("PGBRIDGE_RETRY_MAX_BACKOFF_MS", "500");
            try (PgBridge bridge =
                            PgBridgeConfig.fromEnvironment(env).toBuilder().build();
                    Connection db = TestServices.postgresConnection();
                    Statement sql = db.createStatement()) {
                bridge.start();
                sql.execute("NOTIFY " + channel + ", 'before'");
                await().atMost(RECOVERY).until(() -> payloads(receiver).contains("before"));

                path.freezeExisting();
                sql.execute("NOTIFY " + channel + ", 'during'"); // lost on the frozen path, with its reply
                await("'during', sent after the path froze").atMost(RECOVERY).until(() -> payloads(receiver)
                        .contains("during"));
                sql.execute("NOTIFY " + channel + ", 'after'");
                await().atMost(RECOVERY).until(() -> payloads(receiver).contains("after"));

                assertThat(payloads(receiver).stream().distinct())
                        .as("messages, in order")
                        .containsExactly("before", "during", "after");
                assertThat(path.connectionsAccepted())
                        .as("connections through the path: the first froze, a new one carried the rest")
                        .isGreaterThanOrEqualTo(2);
            }
        }
    }

    private static List<String> payloads(Receiver receiver) {
        return receiver.received().stream()
                .map(r -> new String(r.payload(), StandardCharsets.UTF_8))
                .toList();
    }
}
