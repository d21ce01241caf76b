package io.pgbridge.amqp;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** The sink contract for RabbitMQ, publishing to a queue through the default exchange. */
class AmqpSinkCompatibilityIT extends BrokerSinkCompatibilityKit {

    @Override
    protected Sink createSink(String uri) {
        return new AmqpSinkProvider()
                .create(sinkConfig(
                        uri,
                        Map.of(
                                "amqp.confirm-timeout-ms", "3000",
                                "amqp.connect-timeout-ms", "5000",
                                "amqp.recovery-interval-ms", "500")));
    }

    @Override
    protected String brokerUri() {
        return TestServices.amqpUrl();
    }

    @Override
    protected Target newTarget() {
        return Target.queue("pgbridge-kit-" + UUID.randomUUID());
    }

    @Override
    protected Receiver receiver(Target target) throws Exception {
        return new QueueReceiver(target.name());
    }

    @Override
    protected TestServices.Service service() {
        return TestServices.Service.AMQP;
    }

    @Override
    protected void deleteTarget(Target target) throws Exception {
        try (Connection c = connect();
                Channel ch = c.createChannel()) {
            ch.queueDelete(target.name());
        }
    }

    private static Connection connect() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        factory.setAutomaticRecoveryEnabled(false);
        return factory.newConnection("pgbridge-kit-receiver");
    }

    /** Declares the queue and consumes it, acknowledging automatically. */
    static final class QueueReceiver implements Receiver {
        private final Connection connection;
        private final List<Received> received = new ArrayList<>();

        QueueReceiver(String queue) throws Exception {
            connection = connect();
            Channel channel = connection.createChannel();
            channel.queueDeclare(queue, true, false, false, null);
            channel.basicConsume(
                    queue,
                    true,
                    (tag, delivery) -> {
                        Map<String, String> headers = new LinkedHashMap<>();
                        Map<String, Object> raw = delivery.getProperties().getHeaders();
                        if (raw != null) {
                            raw.forEach((k, v) -> headers.put(k, String.valueOf(v)));
                        }
                        synchronized (received) {
                            received.add(new Received(
                                    delivery.getBody(), delivery.getProperties().getMessageId(), headers));
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
        public void close() {
            try {
                connection.close();
            } catch (Exception e) {
                // the broker may have been restarted under it; nothing to release then
            }
        }
    }
}
