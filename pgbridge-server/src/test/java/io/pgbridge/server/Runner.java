package io.pgbridge.server;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Runs {@code pgbridge} in this JVM with a given environment and captures its exit code, stdout and stderr. */
final class Runner {
    /** What one run left: exit code and the two streams, line by line. */
    record Result(int exit, String stdout, String stderr) {
        List<String> stderrLines() {
            return stderr.lines().toList();
        }

        List<String> stdoutLines() {
            return stdout.lines().toList();
        }

        String firstStderrLine() {
            return stderrLines().isEmpty() ? "" : stderrLines().get(0);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private Runner() {}

    static synchronized Result run(Map<String, String> env, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            exit = new PgBridgeServer(env).execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Result(exit, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
    }
}
