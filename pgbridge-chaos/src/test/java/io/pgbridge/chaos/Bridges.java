package io.pgbridge.chaos;

import static org.awaitility.Awaitility.await;

import io.pgbridge.testkit.ChildJvm;
import io.pgbridge.testkit.TcpRelay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The bridges under test: each a child JVM ({@link ChaosBridge}) configured only by {@code PGBRIDGE_*} variables,
 * reaching PostgreSQL and the sink through {@link TcpRelay}s so that the nemesis can freeze those network paths.
 * A bridge that exits without being told to is a failure of the run ({@link #unexpectedExits()}).
 */
final class Bridges implements AutoCloseable {
    private static final Duration START = Duration.ofMinutes(2);

    private final String name;
    private final Map<String, String> environment;
    private final List<String> jvmOptions;
    private final TcpRelay postgresPath;
    private final TcpRelay sinkPath;
    private final ChildJvm[] running;
    private final List<String> unexpectedExits = new ArrayList<>();
    private int started;

    /**
     * @param environment the workload's and sink's variables, without PostgreSQL and the upstream URI
     * @param sinkUri the sink's URI, whose host and port the relay replaces
     * @param count how many bridges run side by side
     */
    Bridges(String name, Map<String, String> environment, String sinkUri, List<String> jvmOptions, int count)
            throws IOException {
        this.name = name;
        this.jvmOptions = new ArrayList<>(jvmOptions);
        // times in the child's log, to read it against the nemesis's schedule
        this.jvmOptions.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        this.jvmOptions.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
        this.postgresPath = new TcpRelay("127.0.0.1", ChaosServices.PG_PORT);
        java.net.URI sink = java.net.URI.create(sinkUri);
        this.sinkPath = new TcpRelay(sink.getHost(), sink.getPort());
        this.environment = new HashMap<>(environment);
        this.environment.put("PGBRIDGE_POSTGRESQL_URI", ChaosServices.postgresUrl(postgresPath.port()));
        this.environment.put("PGBRIDGE_UPSTREAM_URI", sinkUri.replace(":" + sink.getPort(), ":" + sinkPath.port()));
        this.environment.putIfAbsent("PGBRIDGE_WAL_STATUS_INTERVAL_MS", "500");
        this.environment.putIfAbsent("PGBRIDGE_WAL_HEARTBEAT_INTERVAL_MS", "1000");
        this.environment.putIfAbsent("PGBRIDGE_WAL_RECONNECT_MAX_BACKOFF_MS", "1000");
        this.environment.putIfAbsent("PGBRIDGE_RETRY_MAX_BACKOFF_MS", "500");
        this.environment.putIfAbsent("PGBRIDGE_SHUTDOWN_TIMEOUT_MS", "3000");
        this.running = new ChildJvm[count];
    }

    int count() {
        return running.length;
    }

    void startAll() throws IOException {
        for (int i = 0; i < running.length; i++) {
            start(i);
        }
    }

    /** Starts bridge {@code i} and waits until it runs. */
    void start(int i) throws IOException {
        Path log = Files.createDirectories(Path.of("target", "chaos-logs"))
                .resolve(name + "-bridge" + i + "-" + started++ + ".log");
        ChildJvm bridge = ChildJvm.start(ChaosBridge.class.getName(), environment, jvmOptions, log);
        running[i] = bridge;
        await().atMost(START).until(() -> bridge.log().contains("ChaosBridge: running") || !bridge.isAlive());
        if (!bridge.isAlive()) {
            throw new IllegalStateException("bridge " + i + " did not start; log:\n" + tail(bridge.log()));
        }
    }

    /** SIGKILL of bridge {@code i}, then a new one in its place. */
    void killAndRestart(int i) throws Exception {
        running[i].kill();
        start(i);
    }

    /** SIGTERM of bridge {@code i} (its shutdown hook closes it), then a new one in its place. */
    void terminateAndRestart(int i) throws Exception {
        running[i].terminate();
        start(i);
    }

    void freezePostgresPath() {
        postgresPath.freezeExisting();
    }

    void freezeSinkPath() {
        sinkPath.freezeExisting();
    }

    /** Records every bridge that is no longer running although nobody stopped it. */
    void checkAlive() {
        for (int i = 0; i < running.length; i++) {
            ChildJvm bridge = running[i];
            if (bridge != null && !bridge.isAlive()) {
                unexpectedExits.add("bridge " + i + " exited by itself; log:\n" + tail(bridge.log()));
                running[i] = null;
            }
        }
    }

    List<String> unexpectedExits() {
        checkAlive();
        return unexpectedExits;
    }

    private static String tail(String log) {
        return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
    }

    @Override
    public void close() throws Exception {
        for (ChildJvm bridge : running) {
            if (bridge != null) {
                bridge.close();
            }
        }
        postgresPath.close();
        sinkPath.close();
    }
}
