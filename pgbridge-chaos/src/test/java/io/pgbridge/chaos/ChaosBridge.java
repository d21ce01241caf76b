package io.pgbridge.chaos;

import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The bridge under test, as a runner starts it: settings from the {@code PGBRIDGE_*} variables only, closed by a
 * shutdown hook on SIGTERM. Exits with status 3 when the bridge stops by itself (a source failed for good).
 */
public final class ChaosBridge {
    private ChaosBridge() {}

    public static void main(String[] args) throws Exception {
        PgBridge bridge = PgBridgeConfig.fromEnvironment().toBuilder().build();
        AtomicBoolean terminating = new AtomicBoolean();
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            terminating.set(true);
                            bridge.close();
                        },
                        "pgbridge-shutdown"));
        bridge.start();
        System.out.println("ChaosBridge: running");
        bridge.awaitTermination(Duration.ofDays(1));
        if (!terminating.get()) {
            System.out.println("ChaosBridge: the bridge stopped by itself: " + bridge.state() + " " + bridge.stats());
            System.exit(3);
        }
    }
}
