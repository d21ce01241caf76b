package io.pgbridge.chaos;

import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The RabbitMQ side of a scenario on the suite's node: per route a fanout exchange {@code <name>_rN} bound to a
 * durable queue of the same name, a consumer per queue (manual acknowledgement after recording, so a broker crash
 * redelivers instead of losing), and the sink faults: a queue that refuses (policy, {@code reject-publish}) and an
 * unroutable route (the queue unbound from its exchange for a while).
 *
 * <p>The refusal's limit ({@code max-length} 0) also drops the messages ready in the queue when the policy applies,
 * from the head, although RabbitMQ confirmed them to the bridge (it counts ready messages only; rabbitmq-server
 * #2313). A run lost 35 rows so (seed -4357275539997487393, aTransactionOf500000RowsThroughABridgeOf128Mb; checked by
 * hand on this machine: 10 confirmed messages, policy applied, 0 left). So the policy dead-letters them to
 * {@code <name>_dropped}, whose consumer records them like any delivery (the route from their {@code x-death}
 * header), and the run reports how many there were.
 */
final class AmqpSide implements SinkSide {
    private final String name;
    private final int routes;
    private final Connection connection;
    /** Stays open: automatic recovery re-declares the topology through the channel that declared it. */
    private final Channel admin;

    private final AtomicLong deadLettered = new AtomicLong();

    AmqpSide(String name, int routes) throws Exception {
        this.name = name;
        this.routes = routes;
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(ChaosServices.amqpUrl(ChaosServices.AMQP_PORT));
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(true);
        factory.setNetworkRecoveryInterval(500);
        connection = factory.newConnection("chaos-consumer-" + name);
        admin = connection.createChannel();
        for (int r = 0; r < routes; r++) {
            admin.exchangeDeclare(queue(r), "fanout", true);
            admin.queueDeclare(queue(r), true, false, false, Map.of());
            admin.queueBind(queue(r), queue(r), "");
        }
        admin.exchangeDeclare(dropped(), "fanout", true);
        admin.queueDeclare(dropped(), true, false, false, Map.of());
        admin.queueBind(dropped(), dropped(), "");
    }

    /** The exchange and queue of the messages the refusal policy drops from the head of a queue. */
    private String dropped() {
        return name + "_dropped";
    }

    String queue(int route) {
        return name + "_" + Workload.route(route);
    }

    @Override
    public String uri() {
        return ChaosServices.amqpUrl(ChaosServices.AMQP_PORT);
    }

    @Override
    public String target(int route) {
        return "exchange:" + queue(route);
    }

    /** Publisher confirms and reconnects fast enough for a short run. */
    @Override
    public Map<String, String> environment() {
        return Map.of("PGBRIDGE_AMQP_CONFIRM_TIMEOUT_MS", "5000", "PGBRIDGE_AMQP_RECOVERY_INTERVAL_MS", "500");
    }

    @Override
    public void consume(Deliveries deliveries) throws IOException {
        for (int r = 0; r < routes; r++) {
            int route = r;
            Channel channel = connection.createChannel();
            channel.basicQos(1000);
            channel.basicConsume(queue(r), false, new DefaultConsumer(channel) {
                @Override
                public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
                        throws IOException {
                    deliveries.record(route, Deliveries.rowId(body), props.getMessageId(), envelope.isRedeliver());
                    channel.basicAck(envelope.getDeliveryTag(), false);
                }
            });
        }
        Channel channel = connection.createChannel();
        channel.basicQos(1000);
        channel.basicConsume(dropped(), false, new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
                    throws IOException {
                deliveries.record(route(props), Deliveries.rowId(body), props.getMessageId(), envelope.isRedeliver());
                deadLettered.incrementAndGet();
                channel.basicAck(envelope.getDeliveryTag(), false);
            }
        });
    }

    /** The route of a dead-lettered message: the queue it was dropped from, in its first {@code x-death} entry. */
    private int route(AMQP.BasicProperties props) {
        List<?> deaths = (List<?>) props.getHeaders().get("x-death");
        String queue = ((Map<?, ?>) deaths.get(0)).get("queue").toString();
        return Integer.parseInt(queue.substring(queue.lastIndexOf("_r") + 2));
    }

    /** Every queue of the scenario refuses publishes (RabbitMQ nacks them) until {@link #accept()}. */
    @Override
    public void refuse() {
        ChaosServices.run("rabbit-refuse", name + "_r[0-9]+", dropped());
    }

    @Override
    public void accept() {
        ChaosServices.run("rabbit-accept");
    }

    /** The route's queue is unbound: publishes to its exchange are returned unroutable until {@link #route}. */
    @Override
    public void unroute(int route) {
        onAdmin("unbind " + queue(route), () -> admin.queueUnbind(queue(route), queue(route), ""));
    }

    @Override
    public void route(int route) {
        onAdmin("bind " + queue(route), () -> admin.queueBind(queue(route), queue(route), ""));
    }

    @Override
    public void close() throws Exception {
        for (int r = 0; r < routes; r++) {
            int route = r;
            onAdmin("delete " + queue(r), () -> {
                admin.queueDelete(queue(route));
                admin.exchangeDelete(queue(route));
            });
        }
        onAdmin("delete " + dropped(), () -> {
            admin.queueDelete(dropped());
            admin.exchangeDelete(dropped());
        });
        if (deadLettered.get() > 0) {
            System.out.printf(
                    "chaos: the refusal policy dropped %,d confirmed messages from queue heads, dead-lettered and"
                            + " recorded as delivered%n",
                    deadLettered.get());
        }
        connection.close();
    }

    /** A step on the admin channel; idempotent, since it may run again after the connection recovered. */
    private interface AdminStep {
        void run() throws IOException;
    }

    /**
     * Runs an admin step once the admin connection is open: after a crash or restart of the node (an earlier fault)
     * automatic recovery reopens it within seconds, and until then every step fails with the connection closed (a step cut by a crash fails with an IOException) (the
     * long mode's 258th fault, an unroutable route right after a crash, failed that way).
     */
    private void onAdmin(String step, AdminStep body) {
        await(step)
                .atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(250))
                .ignoreExceptionsMatching(e -> e instanceof ShutdownSignalException || e instanceof IOException)
                .until(() -> {
                    body.run();
                    return true;
                });
    }
}
