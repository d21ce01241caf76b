package io.pgbridge.sql;

import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An outbox bridge in a process of its own, for tests that kill the JVM. Arguments: ledger table, then settings as
 * {@code key=value}. Runs until killed.
 */
public final class OutboxChild {
    private OutboxChild() {}

    /** Starts a child JVM running {@link #main} with the test class path; its output goes to {@code log}. */
    static Process start(Path log, String ledger, List<String> settings) throws IOException {
        return start(log, ledger, settings, List.of());
    }

    /** The same, with options for the JVM ({@code -Dkey=value}). */
    static Process start(Path log, String ledger, List<String> settings, List<String> jvmOptions) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(OutboxChild.class.getName());
        command.add(ledger);
        command.addAll(settings);
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    public static void main(String[] args) throws Exception {
        PgBridge.Builder builder = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes("events->queue:events")
                .sink(new TableLedgerSink(args[0]))
                .source("outbox");
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            builder.setting(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        try (PgBridge bridge = builder.build()) {
            bridge.start();
            bridge.awaitTermination(Duration.ofDays(1));
        }
    }
}
