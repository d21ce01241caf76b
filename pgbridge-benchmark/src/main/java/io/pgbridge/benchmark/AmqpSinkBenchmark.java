package io.pgbridge.benchmark;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.Sink;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The RabbitMQ sink against a bare amqp-client loop, in the same run: {@code events} events (default 100,000) of ~200
 * bytes, persistent, to a durable queue, with the sink's message properties (message id, content type, timestamp, the
 * pgbridge headers).
 *
 * <ul>
 *   <li>{@code bare}: one thread publishing on one confirm-mode channel, at most {@code window} (default 2,000)
 *       messages unconfirmed, confirms taken by a listener.
 *   <li>{@code sink}: {@link Sink#publish} called by one thread in batches of {@code batch} (default 500, the
 *       pipeline's {@code delivery.max-batch}), each waited for: the sink alone, as one lane used it before
 *       pipelining.
 *   <li>{@code bridge}: the whole pipeline: a source publishing {@code events} events with positions (sealed every
 *       1,000, as WAL transactions) on one route to the queue, timed until the last position is acknowledged.
 * </ul>
 *
 * Warm-up, then {@code rounds} (default 4) rounds of the loops, as {@link BenchmarkRounds} prints them.
 * Arguments (all optional): {@code events=100000 batch=500 window=2000 rounds=4 only=bare,sink,bridge
 * amqp=amqp://guest:guest@127.0.0.1:5672/%2f}.
 */
public final class AmqpSinkBenchmark {
    private AmqpSinkBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkRounds.Settings s =
                BenchmarkRounds.Settings.parse(args, "bare,sink,bridge", "amqp=amqp://guest:guest@127.0.0.1:5672/%2f");
        String amqp = s.args().string("amqp");
        s.printHeader("AMQP", "", "");
        String queue = "pgbridge-bench-" + UUID.randomUUID().toString().substring(0, 8);
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(amqp);
        try (Connection admin = factory.newConnection("bench-admin")) {
            try (Channel ch = admin.createChannel()) {
                ch.queueDeclare(queue, true, false, false, Map.of());
            }
            BenchmarkRounds.run(s, (loop, count) -> {
                double perSecond = run(loop, factory, amqp, queue, count, s.batch(), s.window());
                try (Channel ch = admin.createChannel()) {
                    ch.queuePurge(queue);
                }
                return perSecond;
            });
            try (Channel ch = admin.createChannel()) {
                ch.queueDelete(queue);
            }
        }
    }

    private static double run(
            String loop, ConnectionFactory factory, String amqp, String queue, int events, int batch, int window)
            throws Exception {
        return switch (loop) {
            case "bare" -> bare(factory, queue, events, window);
            case "sink" ->
                SyntheticBridge.sinkEventsPerSecond(WalBenchmarkRun.amqpSink(amqp), Target.queue(queue), events, batch);
            case "bridge" -> bridge(amqp, queue, events, batch);
            default -> throw new IllegalArgumentException("unknown loop " + loop);
        };
    }

    private static double bare(ConnectionFactory factory, String queue, int events, int window) throws Exception {
        try (Connection c = factory.newConnection("bench-bare")) {
            Channel ch = c.createChannel();
            ch.confirmSelect();
            Semaphore room = new Semaphore(window);
            CountDownLatch done = new CountDownLatch(events);
            AtomicLong confirmed = new AtomicLong(); // highest sequence number confirmed so far
            ch.addConfirmListener(
                    (tag, multiple) -> {
                        long from = multiple ? confirmed.get() + 1 : tag;
                        int n = (int) (tag - from + 1);
                        confirmed.accumulateAndGet(tag, Math::max);
                        room.release(n);
                        for (int i = 0; i < n; i++) {
                            done.countDown();
                        }
                    },
                    (tag, multiple) -> {
                        throw new IllegalStateException("nack " + tag);
                    });
            long start = System.nanoTime();
            for (int i = 0; i < events; i++) {
                Event e = SyntheticBridge.event(i);
                room.acquire();
                ch.basicPublish("", queue, true, properties(e), e.payload());
            }
            if (!done.await(5, TimeUnit.MINUTES)) {
                throw new IllegalStateException("bare loop: confirms missing");
            }
            return events / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** What the sink sends: persistent, content type, message id, the pgbridge headers. */
    private static AMQP.BasicProperties properties(Event e) {
        return new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .contentType(e.contentType())
                .messageId(e.id())
                .headers(Map.of("pgbridge-source", e.source(), "pgbridge-channel", e.channel()))
                .build();
    }

    private static double bridge(String amqp, String queue, int events, int batch) throws Exception {
        return SyntheticBridge.eventsPerSecond("bench->queue:" + queue, WalBenchmarkRun.amqpSink(amqp), events, batch);
    }
}
