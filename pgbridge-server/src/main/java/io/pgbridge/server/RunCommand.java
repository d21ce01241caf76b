package io.pgbridge.server;

import static io.pgbridge.server.PgBridgeServer.log;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.spi.Settings;
import io.pgbridge.sql.PgBridgeSchema;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Bridges the configured database until stopped (SIGTERM or Ctrl-C close the bridge: intake stops, in-flight events
 * are confirmed, the final position acknowledged; the command then exits 0 when the bridge closed cleanly, 1 after a
 * failure, not the JVM's 143 or 130). With no setting at all, no {@code PGBRIDGE_*} variable and no
 * {@code --config}, it runs the demo instead; any setting turns that off. While it bridges, it serves the management
 * endpoint ({@link ManagementServer}, unless {@code management.enabled=false}) and logs a progress line while events
 * flow ({@link ProgressLog}).
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Bridges the configured database to the configured broker until stopped (the default command).",
            "With no PGBRIDGE_* setting and no --config it runs the demo instead. With the outbox source it first "
                    + "installs or upgrades the pgbridge schema."
        })
final class RunCommand implements Callable<Integer> {
    @Mixin
    PgBridgeServer.CommonOptions common;

    @Override
    public Integer call() throws Exception {
        PgBridgeConfig settings = common.settings();
        if (settings.isEmpty() && common.config == null) {
            log.info("No PGBRIDGE_* setting and no --config: running the demo (pgbridge demo). Set "
                    + "PGBRIDGE_POSTGRESQL_URI, PGBRIDGE_UPSTREAM_URI and PGBRIDGE_BRIDGE_CHANNELS to bridge your "
                    + "own database; pgbridge --help lists every setting");
            return DemoCommand.runDemo(settings);
        }
        if (runsOutbox(settings)) {
            int applied = PgBridgeSchema.migrate(settings);
            log.info("pgbridge schema {} ready ({} script(s) applied)", PgBridgeSchema.schema(settings), applied);
        }
        Settings own = ServerSettings.of(settings);
        boolean management = own.bool(ServerSettings.MANAGEMENT_ENABLED);
        PgBridge.Builder builder = settings.toBuilder();
        PrometheusMeterRegistry registry = management ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
        if (registry != null) {
            builder.meterRegistry(registry);
        }
        PgBridge bridge = builder.build();
        // bound before start(): a taken port stops the command before anything connects, and the probes answer
        // (live, not ready) while the bridge starts
        try (ManagementServer endpoint = management ? ManagementServer.start(own, bridge, registry) : null;
                StopSignals signals = StopSignals.close(bridge)) {
            // any other way the JVM ends (System.exit elsewhere, SIGHUP) still closes the bridge
            Thread hook = new Thread(bridge::close, "pgbridge-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                bridge.start();
            } catch (RuntimeException e) {
                Runtime.getRuntime().removeShutdownHook(hook); // start() left nothing running
                throw e;
            }
            if (endpoint != null) {
                log.info("Management endpoint on {}: /metrics, /health/live, /health/ready", endpoint.url());
            }
            try (ProgressLog progress = ProgressLog.start(bridge, own.duration(ServerSettings.PROGRESS_INTERVAL))) {
                bridge.awaitTermination(Duration.ofDays(365_000));
            }
        }
        if (bridge.state() == PgBridge.State.FAILED) {
            log.error("pgbridge stopped after a failure: {}", bridge.failure());
            return PgBridgeServer.FAILED;
        }
        return PgBridgeServer.OK;
    }

    private static boolean runsOutbox(PgBridgeConfig settings) {
        String sources = settings.get("sources");
        return sources != null
                && Arrays.stream(sources.split(",")).anyMatch(s -> s.trim().equals("outbox"));
    }

    /**
     * While open, SIGTERM and SIGINT close the bridge instead of ending the JVM, so that {@link #call()} returns and
     * the command's own exit code is the process's. A JVM ended by a signal exits 128 + its number (143, 130) whatever
     * its shutdown hooks did, and {@code System.exit} called meanwhile blocks for ever; the JDK offers no other way
     * to handle a signal than {@code sun.misc.Signal} (module {@code jdk.unsupported}). Closing restores the previous
     * handlers. Where the signals cannot be handled (a JVM without them), the shutdown hook still closes the bridge.
     */
    private static final class StopSignals implements AutoCloseable {
        private static final List<String> NAMES = List.of("TERM", "INT");
        private final Map<sun.misc.Signal, sun.misc.SignalHandler> previous = new LinkedHashMap<>();

        static StopSignals close(PgBridge bridge) {
            StopSignals signals = new StopSignals();
            for (String name : NAMES) {
                try {
                    sun.misc.Signal signal = new sun.misc.Signal(name);
                    signals.previous.put(signal, sun.misc.Signal.handle(signal, s -> {
                        log.info("SIG{} received: closing the bridge", s.getName());
                        bridge.close();
                    }));
                } catch (IllegalArgumentException e) {
                    log.debug("Cannot handle SIG{} ({}); the shutdown hook closes the bridge", name, e.getMessage());
                }
            }
            return signals;
        }

        @Override
        public void close() {
            previous.forEach(sun.misc.Signal::handle);
        }
    }
}
