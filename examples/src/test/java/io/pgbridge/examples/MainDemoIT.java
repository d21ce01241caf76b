package io.pgbridge.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The README's first command: with nothing configured, the main job demonstrates itself and exits 0. */
class MainDemoIT {

    @Test
    void theDemoDeliversItsSampleEvents(@TempDir Path dir) throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.properties"));
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new Main()).execute("--config", empty.toString());
        } finally {
            System.setOut(stdout);
        }

        String lines = captured.toString(StandardCharsets.UTF_8);
        assertThat(exit).as("exit code").isZero();
        assertThat(lines)
                .contains("\"routing_key\":\"signup\"", "\"payload\":\"A new user signup\"")
                .contains("\"routing_key\":\"order.created\"")
                .contains("héllo 👋");
    }
}
