package io.pgbridge.benchmark;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgbridge.PgBridge;
import io.pgbridge.amqp.AmqpSinkProvider;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * One run of {@link WalBenchmark}, in its own JVM: streams {@code rows} changes from the slot through the path named
 * by {@code mode}, prints {@code READY} once it reads and {@code RESULT key=value ...} once every change was
 * confirmed. Arguments: mode ({@code memory}, {@code amqp}, {@code amqp-strict}: RabbitMQ with {@code
 * delivery.strict-order}, {@code bare}; a {@code -metrics} suffix, such as {@code memory-metrics}, records the bridge's
 * meters in a {@link SimpleMeterRegistry}), postgres URL, JDBC URL, user, slot, table, rows, and for the RabbitMQ modes
 * the broker URL and the queue.
 */
public final class WalBenchmarkRun {
    private WalBenchmarkRun() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String postgresUrl = args[1];
        String jdbcUrl = args[2];
        String user = args[3];
        String slot = args[4];
        String table = args[5];
        long rows = Long.parseLong(args[6]);
        Measurements m = new Measurements(rows);
        if (mode.equals("bare")) {
            BarePgOutputLoop.run(jdbcUrl, user, slot, m, rows, () -> System.out.println("READY"));
            System.out.println("RESULT " + m.summary(false));
            return;
        }
        boolean toAmqp = mode.startsWith("amqp");
        Sink sink = new MeasuringSink(toAmqp ? amqpSink(args[7]) : null, m);
        String target = toAmqp ? "queue:" + args[8] : "queue:bench";
        SimpleMeterRegistry registry = mode.endsWith("-metrics") ? new SimpleMeterRegistry() : null;
        PgBridge.Builder builder = PgBridge.builder()
                .postgres(postgresUrl)
                .routes(table + "->" + target)
                .sink(sink)
                .setting("wal.slot", slot)
                .strictOrder(mode.startsWith("amqp-strict"))
                .shutdownTimeout(Duration.ofSeconds(60));
        if (registry != null) {
            builder.meterRegistry(registry);
        }
        try (PgBridge bridge = builder.build()) {
            bridge.start();
            System.out.println("READY");
            m.awaitAll();
            String delivered = registry == null
                    ? ""
                    : " metrics_delivered="
                            + (long) registry.get("pgbridge.events.delivered")
                                    .functionCounter()
                                    .count();
            System.out.println("RESULT " + m.summary(true) + delivered);
        }
    }

    /** The AMQP sink on {@code uri} with default settings (also used by {@link OutboxBenchmarkRun}). */
    static Sink amqpSink(String uri) {
        ThreadFactory threads = Executors.defaultThreadFactory();
        return new AmqpSinkProvider().create(SinkConfig.of(uri, Settings.empty(), threads));
    }
}
