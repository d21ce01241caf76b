package io.pgbridge.internal.wal;

import io.pgbridge.PgBridge;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A bridge in a process of its own, for tests that kill the JVM or cap its heap. Arguments: postgres URL, slot,
 * routes, ledger file, events to wait for (then it closes and exits 0; a negative number runs until killed),
 * extra settings as {@code key=value}. With {@code -Dpgbridge.test.backfill=<schema.table>} it starts an online backfill
 * of that table once running.
 */
public final class WalChild {
    private WalChild() {}

    /**
     * Starts a child JVM running {@link #main} with the test class path and {@code jvmOptions}; its output goes to
     * {@code log}.
     */
    static Process start(Path log, List<String> jvmOptions, String... args) throws java.io.IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(WalChild.class.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    public static void main(String[] args) throws Exception {
        LedgerSink sink = new LedgerSink(Path.of(args[3]));
        long expected = Long.parseLong(args[4]);
        PgBridge.Builder builder = PgBridge.builder()
                .postgres(args[0])
                .setting("wal.slot", args[1])
                .routes(args[2])
                .sink(sink)
                .setting("wal.status-interval-ms", "200");
        for (int i = 5; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            builder.setting(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        try (PgBridge bridge = builder.build()) {
            bridge.start();
            String backfill = System.getProperty("pgbridge.test.backfill");
            if (backfill != null) {
                bridge.backfill(backfill);
            }
            if (expected < 0) {
                bridge.awaitTermination(java.time.Duration.ofDays(1));
            } else {
                sink.awaitCount(expected);
                System.out.println("WalChild: " + expected + " events delivered; max heap "
                        + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB");
            }
        }
    }
}
