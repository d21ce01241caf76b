package io.pgbridge.spring.boot;

import io.pgbridge.PgBridge;
import java.util.Objects;
import org.springframework.context.SmartLifecycle;

/**
 * Runs the bridge with the application context: {@link #start()} installs the outbox schema when asked, then starts
 * the bridge; {@link #stop()} closes it, which stops intake and waits up to {@code pgbridge.pipeline.shutdown-timeout}
 * for in-flight events to be confirmed before it acknowledges and disconnects (what is unconfirmed then is read again
 * on the next start, for the WAL and outbox sources).
 *
 * <p>Phase {@link #PHASE}: every singleton, the {@code DataSource} and Flyway's migrations included, exists before
 * any lifecycle starts, and they are destroyed only after every lifecycle stopped; within the lifecycles, the bridge
 * starts before the web server ({@code DEFAULT_PHASE - 2048}) and stops after it, so requests in progress at
 * shutdown still have their outbox events delivered.
 */
public final class PgBridgeLifecycle implements SmartLifecycle {
    /** The lifecycle phase: below the web server's, so that the bridge starts before it and stops after it. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final PgBridge bridge;
    private final Runnable beforeStart;

    /**
     * @param bridge the bridge to run
     * @param beforeStart runs once before the bridge starts (the outbox schema's installation); an exception fails
     *     the start
     */
    PgBridgeLifecycle(PgBridge bridge, Runnable beforeStart) {
        this.bridge = Objects.requireNonNull(bridge, "bridge");
        this.beforeStart = Objects.requireNonNull(beforeStart, "beforeStart");
    }

    /**
     * Starts the bridge.
     *
     * @throws io.pgbridge.ConnectionException when PostgreSQL or the broker cannot be reached (the context fails)
     * @throws io.pgbridge.SchemaException when a database prerequisite is unmet
     */
    @Override
    public void start() {
        if (bridge.state() == PgBridge.State.NEW) {
            beforeStart.run();
            bridge.start();
        }
    }

    /** Closes the bridge, draining in-flight events; blocks up to the shutdown timeout. */
    @Override
    public void stop() {
        bridge.close();
    }

    /** Whether the bridge is starting or running (false once it closed, failed or before start). */
    @Override
    public boolean isRunning() {
        PgBridge.State state = bridge.state();
        return state == PgBridge.State.STARTING || state == PgBridge.State.RUNNING;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
