package io.pgbridge.amqp;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.Target;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.sinktck.RetriedRefusal;
import io.pgbridge.sinktck.RetriedRefusal.Outcome;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Duplicates after k retries do not depend on k, against the real RabbitMQ: one event of a 40-event batch refused
 * by a mandatory return (its routing key is bound to no queue) or by a nack (the queue is full with {@code
 * x-overflow=reject-publish}), retried 2 and 8 times, then the cause fixed. See {@link RetriedRefusal}.
 */
class AmqpRefusalRetriesIT {
    private static final int EVENTS = 40;
    private static final int REFUSED = 10;

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    /**
     * Publisher confirms with {@code mandatory}: the unroutable event is returned (a failure), and the 29 events
     * behind it in the batch, routable, are already in the queue; its retries add nothing.
     */
    @Test
    void anUnroutableEventRetriedTwiceOrEightTimesAddsTheSameDuplicates() throws Exception {
        RetriedRefusal.assertRetriesAddNothing(unroutable(2), unroutable(8), "is unroutable", true);
    }

    private Outcome unroutable(int retries) throws Exception {
        String exchange = "pgbridge-refusal-" + UUID.randomUUID();
        String queue = exchange + "-q";
        Channel admin = admin();
        admin.exchangeDeclare(exchange, "direct", false, false, null);
        admin.queueDeclare(queue, false, false, false, null);
        admin.queueBind(queue, exchange, "taken");
        cleanup.add(() -> {
            admin.exchangeDelete(exchange);
            admin.queueDelete(queue);
        });
        QueueReceiver receiver = new QueueReceiver(queue);
        receiver.consume();
        return RetriedRefusal.run(
                sink(),
                Target.exchange(exchange),
                receiver,
                EVENTS,
                REFUSED,
                retries,
                (i, event) -> event.routingKey(i == REFUSED ? "held" : "taken"),
                () -> admin.queueBind(queue, exchange, "held"));
    }

    /**
     * A queue of {@code x-max-length} 10 with {@code x-overflow=reject-publish}: the first 10 events fill it, RabbitMQ
     * nacks the 11th and every one behind it; once a consumer makes room, each arrives once.
     */
    @Test
    void aNackedEventRetriedTwiceOrEightTimesAddsTheSameDuplicates() throws Exception {
        RetriedRefusal.assertRetriesAddNothing(nacked(2), nacked(8), "RabbitMQ nacked", false);
    }

    private Outcome nacked(int retries) throws Exception {
        String queue = "pgbridge-refusal-" + UUID.randomUUID();
        Channel admin = admin();
        admin.queueDeclare(queue, false, false, false, Map.of("x-max-length", REFUSED, "x-overflow", "reject-publish"));
        cleanup.add(() -> admin.queueDelete(queue));
        QueueReceiver receiver = new QueueReceiver(queue);
        return RetriedRefusal.run(
                sink(),
                Target.queue(queue),
                receiver,
                EVENTS,
                REFUSED,
                retries,
                (i, event) -> event,
                receiver::consume);
    }

    private static Sink sink() {
        return new AmqpSinkProvider()
                .create(SinkCompatibilityKit.sinkConfig(
                        TestServices.amqpUrl(), Map.of("amqp.confirm-timeout-ms", "5000")));
    }

    private Channel admin() throws Exception {
        Connection c = connect();
        cleanup.add(c::close);
        return c.createChannel();
    }

    private Connection connect() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        factory.setAutomaticRecoveryEnabled(false);
        return factory.newConnection("pgbridge-refusal-test");
    }

    /** Consumes a queue once told to (auto-ack), recording each message's {@code message-id}. */
    private final class QueueReceiver implements Receiver {
        private final String queue;
        private final Channel channel;
        private final List<Received> received = new ArrayList<>();

        QueueReceiver(String queue) throws Exception {
            this.queue = queue;
            this.channel = admin();
        }

        void consume() throws Exception {
            channel.basicConsume(
                    queue,
                    true,
                    (tag, delivery) -> {
                        synchronized (received) {
                            received.add(new Received(
                                    delivery.getBody(), delivery.getProperties().getMessageId(), Map.of()));
                        }
                    },
                    tag -> {});
        }

        @Override
        public List<Received> received() {
            synchronized (received) {
                return new ArrayList<>(received);
            }
        }

        @Override
        public void close() {}
    }
}
