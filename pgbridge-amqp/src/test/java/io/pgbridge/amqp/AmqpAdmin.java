package io.pgbridge.amqp;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.pgbridge.testkit.TestServices;

/** Short administrative work on the test RabbitMQ ({@link TestServices#amqpUrl()}), each on a connection of its own. */
final class AmqpAdmin {
    private AmqpAdmin() {}

    /** What to do with the admin channel. */
    @FunctionalInterface
    interface Action {
        void run(Channel channel) throws Exception;
    }

    /** Opens a connection (no automatic recovery) and a channel, runs the action on it, and closes both. */
    static void run(Action action) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.amqpUrl());
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection c = factory.newConnection("pgbridge-it-admin");
                Channel ch = c.createChannel()) {
            action.run(ch);
        }
    }
}
