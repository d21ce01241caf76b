package io.pgbridge.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The suite's own PostgreSQL cluster, RabbitMQ node, Mosquitto broker and Redis server, on ports no other test uses
 * ({@value #PG_PORT}, {@value #AMQP_PORT}, {@value #MQTT_PORT}, {@value #REDIS_PORT}), started from scratch by {@code
 * src/test/scripts/chaos-services.sh} so that the nemesis can crash and restart them without disturbing the shared
 * services or anyone's private set, and so that the suite does not depend on the machine's brokers (other modules'
 * tests stop and start those). A leftover of an earlier run is stopped and its data removed on {@link #start()}.
 */
final class ChaosServices {
    static final int PG_PORT = 5499;
    static final int AMQP_PORT = 5699;
    static final int MQTT_PORT = 1899;
    static final int REDIS_PORT = 6399;

    private ChaosServices() {}

    static String postgresUrl(int port) {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    static String amqpUrl(int port) {
        return "amqp://guest:guest@127.0.0.1:" + port + "/%2f";
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + PG_PORT + "/postgres", "postgres", "");
    }

    static void start() {
        run("start");
    }

    static void stop() {
        run("stop");
    }

    /** Runs one command of the services script, for example {@code pg-restart}; fails loudly when it fails. */
    static void run(String... command) {
        List<String> line = new ArrayList<>(List.of("bash", script().toString()));
        line.addAll(List.of(command));
        try {
            Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(3, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(line + " did not finish in 3 minutes");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        line + " exited with " + p.exitValue() + ": " + new String(out, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + line, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + line, e);
        }
    }

    private static Path script() {
        String configured = System.getProperty("chaos.script");
        return configured != null && !configured.isBlank()
                ? Path.of(configured)
                : Path.of("src", "test", "scripts", "chaos-services.sh");
    }
}
