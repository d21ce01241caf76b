package io.pgbridge.server;

import static io.pgbridge.server.PgBridgeServer.log;

import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.sql.PgBridgeSchema;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/**
 * Bridges the configured database until stopped (SIGTERM or Ctrl-C close the bridge: intake stops, in-flight events
 * are confirmed, the final position acknowledged). With no setting at all, no {@code PGBRIDGE_*} variable and no
 * {@code --config}, it runs the demo instead; any setting turns that off.
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
    @ParentCommand
    PgBridgeServer server;

    @Mixin
    PgBridgeServer.CommonOptions common;

    @Override
    public Integer call() throws Exception {
        PgBridgeConfig settings = server.settings(common);
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
        PgBridge bridge = settings.toBuilder().build();
        Thread hook = new Thread(bridge::close, "pgbridge-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            bridge.start();
        } catch (RuntimeException e) {
            Runtime.getRuntime().removeShutdownHook(hook); // start() left nothing running
            throw e;
        }
        bridge.awaitTermination(Duration.ofDays(365_000));
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
}
