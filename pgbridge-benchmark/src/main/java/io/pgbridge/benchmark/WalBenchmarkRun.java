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
 * One run of {@link WalBenchmark} or {@link PerformanceBenchmark}, in its own JVM: streams {@code rows} changes from
 * the slot (or notifications from the channel) through the path named by {@code mode}, prints {@code READY} once it
 * reads and {@code RESULT key=value ...} (see {@link Measurements#summary}) once every one was confirmed. Arguments:
 * mode ({@code memory}, {@code amqp}, {@code amqp-strict}: RabbitMQ with {@code delivery.strict-order}, {@code bare}:
 * {@link BarePgOutputLoop}; {@code notify}: the bridge's NOTIFY source into memory, {@code listen}: {@link
 * BareListenLoop}; a {@code -metrics} suffix, such as {@code memory-metrics}, records the bridge's meters in a {@link
 * SimpleMeterRegistry}), postgres URL, JDBC URL, user, slot (for {@code notify} and {@code listen}: the channel),
 * table, rows, and for the RabbitMQ modes the broker URL and the queue.
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
        Runnable ready = () -> {
            m.ready();
            System.out.println("READY");
        };
        if (mode.equals("bare")) {
            BarePgOutputLoop.run(jdbcUrl, user, slot, m, rows, ready);
            System.out.println("RESULT " + m.summary(false));
            return;
        }
        if (mode.equals("listen")) {
            BareListenLoop.run(new JdbcTarget(jdbcUrl, user), slot, m, rows, ready);
            System.out.println("RESULT " + m.summary(true));
            return;
        }
        boolean toAmqp = mode.startsWith("amqp");
        boolean notify = mode.startsWith("notify");
        Sink sink = new MeasuringSink(toAmqp ? amqpSink(args[7]) : null, m, notify);
        String target = toAmqp ? "queue:" + args[8] : "queue:bench";
        SimpleMeterRegistry registry = mode.endsWith("-metrics") ? new SimpleMeterRegistry() : null;
        PgBridge.Builder builder = PgBridge.builder()
                .postgres(postgresUrl)
                .routes((notify ? slot : table) + "->" + target)
                .sink(sink)
                .strictOrder(mode.startsWith("amqp-strict"))
                .shutdownTimeout(Duration.ofSeconds(60));
        if (notify) {
            builder.source("notify");
        } else {
            builder.source("wal").setting("wal.slot", slot);
        }
        if (registry != null) {
            builder.meterRegistry(registry);
        }
        try (PgBridge bridge = builder.build()) {
            bridge.start();
            ready.run();
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
