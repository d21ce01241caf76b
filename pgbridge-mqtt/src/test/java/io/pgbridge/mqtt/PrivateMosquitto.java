package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Mosquitto that a test starts on a free port of 127.0.0.1, with its own configuration, for what the shared test
 * broker must not be subjected to (an ACL, credentials, a limit, being paused). Stopped by {@link #close()}.
 */
final class PrivateMosquitto implements AutoCloseable {
    private final Process process;
    private final int port;

    /**
     * Starts {@code mosquitto} and waits up to 15 s until it listens.
     *
     * @param dir where its configuration and log go
     * @param settings configuration lines beyond the listener, {@code persistence false} and the user
     */
    PrivateMosquitto(Path dir, String... settings) throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> lines = new ArrayList<>(List.of(
                "listener " + port + " 127.0.0.1", "persistence false", "user " + System.getProperty("user.name")));
        lines.addAll(List.of(settings));
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, String.join("\n", lines) + "\n");
        process = new ProcessBuilder("mosquitto", "-c", conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile())
                .start();
        await("private Mosquitto on port " + port)
                .atMost(Duration.ofSeconds(15))
                .until(this::listening);
    }

    private boolean listening() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code mqtt://127.0.0.1:<port>}, with {@code userInfo@} when not {@code null}. */
    URI uri(String userInfo) {
        return URI.create("mqtt://" + (userInfo == null ? "" : userInfo + "@") + "127.0.0.1:" + port);
    }

    /** Sends a signal to the broker: {@code HUP} rereads the ACL file, {@code STOP} pauses it, {@code CONT} resumes. */
    void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .redirectErrorStream(true)
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0)
                .as("kill -%s mosquitto", name)
                .isTrue();
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly(); // a paused broker ignores SIGTERM until it is resumed
        }
    }
}
