package io.pgbridge.benchmark;

import io.pgbridge.PgBridge;
import java.time.Duration;

/**
 * One run of {@link OutboxBenchmark}, in its own JVM: delivers {@code rows} outbox events of channel {@code bench}
 * through the outbox source in the given mode, prints {@code READY} once it reads and {@code RESULT key=value ...}
 * once every event was confirmed. Arguments: outbox mode ({@code streaming}, {@code polling}), sink ({@code memory},
 * {@code amqp}), postgres URL, schema, rows (0: start and stop), and for {@code amqp} the broker URL and the queue.
 */
public final class OutboxBenchmarkRun {
    private OutboxBenchmarkRun() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        boolean amqp = args[1].equals("amqp");
        long rows = Long.parseLong(args[4]);
        Measurements m = new Measurements(rows);
        MeasuringSink sink = new MeasuringSink(amqp ? WalBenchmarkRun.amqpSink(args[5]) : null, m, false);
        try (PgBridge bridge = PgBridge.builder()
                .postgres(args[2])
                .routes("bench->" + (amqp ? "queue:" + args[6] : "queue:bench"))
                .sink(sink)
                .source("outbox")
                .setting("outbox.mode", mode)
                .setting("outbox.schema", args[3])
                .setting("outbox.batch-size", "1000")
                .shutdownTimeout(Duration.ofSeconds(60))
                .build()) {
            bridge.start();
            System.out.println("READY");
            if (rows == 0) {
                return; // a first start only, which leaves the slot and the stream's checkpoint behind
            }
            m.awaitAll();
            System.out.println("RESULT " + m.summary(true));
        }
    }
}
