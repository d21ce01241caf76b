package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The distribution, {@code pgbridge-VERSION.tar.gz} built by {@code package}, unpacked once per test JVM under
 * {@code target/}, and {@code bin/pgbridge} processes started from it as a user would.
 */
final class Distribution {
    static final String VERSION = System.getProperty("pgbridge.version");

    private static Path folder;
    private static Path home;

    private Distribution() {}

    /** The unpacked {@code pgbridge-VERSION} folder. */
    static synchronized Path home() throws IOException, InterruptedException {
        if (home == null) {
            Path archive = Path.of(System.getProperty("pgbridge.distribution"));
            assertThat(archive).as("the distribution built by package").exists();
            folder = Files.createTempDirectory(archive.getParent(), "unpacked");
            Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", folder.toString())
                    .inheritIO()
                    .start();
            assertThat(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0)
                    .as("tar -xzf")
                    .isTrue();
            home = folder.resolve("pgbridge-" + VERSION);
        }
        return home;
    }

    /**
     * One {@code bin/pgbridge} process with no inherited {@code PGBRIDGE_*} variable. Its output goes to files (a pipe
     * read while the process exits can lose its last lines).
     */
    static final class Run {
        final Process process;
        private final Path out;
        private final Path err;
        List<String> stdout = List.of();
        List<String> stderr = List.of();
        int exit;

        private Run(Process process, Path out, Path err) {
            this.process = process;
            this.out = out;
            this.err = err;
        }

        static Run start(Map<String, String> env, String... args) throws IOException, InterruptedException {
            Path home = home();
            Path out = Files.createTempFile(folder, "stdout", ".txt");
            Path err = Files.createTempFile(folder, "stderr", ".txt");
            ProcessBuilder pb =
                    new ProcessBuilder().redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.command().add(home.resolve("bin/pgbridge").toString());
            pb.command().addAll(List.of(args));
            pb.environment().keySet().removeIf(name -> name.startsWith("PGBRIDGE_"));
            pb.environment().putAll(env);
            pb.environment()
                    .put(
                            "JAVA",
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString());
            return new Run(pb.start(), out, err);
        }

        /** Waits for the process to end (two minutes at most) and reads its output. */
        Run finish() throws InterruptedException, IOException {
            assertThat(process.waitFor(120, TimeUnit.SECONDS))
                    .as("bin/pgbridge ended")
                    .isTrue();
            exit = process.exitValue();
            read();
            return this;
        }

        /** Reads what the process wrote so far. */
        Run read() throws IOException {
            stdout = Files.readAllLines(out, StandardCharsets.UTF_8);
            stderr = Files.readAllLines(err, StandardCharsets.UTF_8);
            return this;
        }

        @Override
        public String toString() {
            return "--- stdout\n" + String.join("\n", stdout) + "\n--- stderr\n" + String.join("\n", stderr);
        }
    }
}
