package io.pgbridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmCallback;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ReturnCallback;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * A stand-in for one AMQP channel in a unit test of the confirm tracking: it numbers publishes as a confirm-mode
 * channel does, and lets the test play the broker's acks, nacks, returns and shutdown in any order, from the
 * publishing thread (through {@link #afterPublish}) or from another one.
 */
final class ScriptedChannel {
    private volatile long nextSeq = 1;
    private volatile boolean open = true;
    private int failOnPublish;
    private ConfirmCallback ack;
    private ConfirmCallback nack;
    private ReturnCallback returns;
    private ShutdownListener shutdown;
    private IntConsumer afterPublish = n -> {};
    final List<AMQP.BasicProperties> published = new ArrayList<>();

    /** A connection whose {@code createChannel()} returns this channel. */
    Connection connection() {
        Channel channel = (Channel) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {Channel.class}, (proxy, m, args) -> channel(m, args));
        return (Connection) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {Connection.class}, (proxy, m, args) -> {
                    if (m.getName().equals("createChannel") && m.getParameterCount() == 0) {
                        return channel;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    private Object channel(Method m, Object[] args) {
        switch (m.getName()) {
            case "addConfirmListener":
                ack = (ConfirmCallback) args[0];
                nack = (ConfirmCallback) args[1];
                return null;
            case "addReturnListener":
                returns = (ReturnCallback) args[0];
                return null;
            case "addShutdownListener":
                shutdown = (ShutdownListener) args[0];
                return null;
            case "confirmSelect":
                return null;
            case "getNextPublishSeqNo":
                return nextSeq;
            case "basicPublish":
                if (!open || published.size() + 1 == failOnPublish) {
                    throw new AlreadyClosedException(signal());
                }
                nextSeq++;
                published.add((AMQP.BasicProperties) args[3]);
                afterPublish.accept(published.size());
                return null;
            case "isOpen":
                return open;
            case "close":
                open = false;
                return null;
            case "getChannelNumber":
                return 1;
            default:
                throw new UnsupportedOperationException(m.getName());
        }
    }

    /** Runs after each publish with the number of messages published so far. */
    void afterPublish(IntConsumer action) {
        afterPublish = action;
    }

    /** The {@code n}th publish (from 1) throws as on a closed channel. */
    void failOnPublish(int n) {
        failOnPublish = n;
    }

    void ack(long tag, boolean multiple) {
        confirm(ack, tag, multiple);
    }

    void nack(long tag, boolean multiple) {
        confirm(nack, tag, multiple);
    }

    private static void confirm(ConfirmCallback callback, long tag, boolean multiple) {
        try {
            callback.handle(tag, multiple);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the published message with sequence number {@code seq} as unroutable (NO_ROUTE). */
    void returnMessage(long seq) {
        AMQP.BasicProperties props = published.get((int) seq - 1);
        returns.handle(new Return(312, "NO_ROUTE", "x", "key", props, new byte[0]));
    }

    /** The broker closes the channel. */
    void shutDown() {
        open = false;
        shutdown.shutdownCompleted(signal());
    }

    private ShutdownSignalException signal() {
        return new ShutdownSignalException(false, false, null, this);
    }
}
