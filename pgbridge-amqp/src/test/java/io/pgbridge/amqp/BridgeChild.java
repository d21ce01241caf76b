package io.pgbridge.amqp;

import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import java.time.Duration;

/**
 * The bridge as a runner starts it, for tests that stop it the way an operator or a crash does: settings from the
 * {@code PGBRIDGE_*} variables only, closed by a shutdown hook on SIGTERM.
 */
public final class BridgeChild {
    private BridgeChild() {}

    public static void main(String[] args) throws Exception {
        PgBridge bridge = PgBridgeConfig.fromEnvironment().toBuilder().build();
        Runtime.getRuntime().addShutdownHook(new Thread(bridge::close, "pgbridge-shutdown"));
        bridge.start();
        System.out.println("BridgeChild: running");
        bridge.awaitTermination(Duration.ofDays(1));
    }
}
