package io.pgbridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import io.pgbridge.spi.PublishResult;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AMQP channel in publisher-confirm mode, used by one publishing thread at a time (the sink keeps a pool). A
 * batch is published whole ({@code mandatory=true}), then the thread waits until the confirmed prefix is known.
 *
 * <p>Confirms, returns and shutdown arrive on the connection's I/O thread. RabbitMQ sends the {@code basic.return} of
 * an unroutable message before its {@code basic.ack}, on the same channel, so a returned message is known as such
 * when its ack comes (RabbitMQ "Publisher Confirms": "for unroutable messages, the broker will issue a confirm once
 * the exchange verifies a message won't route to any queue"; with mandatory set, basic.return is sent first). Acks
 * may cover several sequence numbers ({@code multiple=true}) and may come in any order; each message's outcome is
 * recorded by its sequence number, and the result is the prefix of acked messages.
 *
 * <p>After a timeout, a publish error or a shutdown the channel is {@linkplain #usable() unusable}: confirms of that
 * batch may still arrive, and a recovered channel restarts its sequence numbers, so the sink discards it and opens a
 * fresh one.
 */
final class ConfirmChannel {
    private static final Logger log = LoggerFactory.getLogger(ConfirmChannel.class);

    /** What one message of a batch became. */
    private enum Outcome {
        PENDING,
        ACKED,
        NACKED,
        RETURNED
    }

    /** One message to publish; {@code messageId} is also in the properties, and identifies a {@code basic.return}. */
    record Message(String exchange, String routingKey, AMQP.BasicProperties properties, byte[] body) {}

    private final Channel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    // Guarded by lock. The batch in flight: outcomes[i] belongs to sequence number firstSeq + i.
    private long firstSeq;
    private Outcome[] outcomes;
    private String[] messageIds;
    private String[] returnReasons;
    private ShutdownSignalException shutdown;
    private boolean broken;

    private ConfirmChannel(Channel channel) {
        this.channel = channel;
    }

    /**
     * Opens a channel on {@code connection} and puts it in confirm mode.
     *
     * @throws IOException when the channel cannot be opened or the broker's channel limit is reached
     * @throws ShutdownSignalException when the connection is closed or recovering
     */
    static ConfirmChannel open(Connection connection) throws IOException {
        Channel channel = connection.createChannel();
        if (channel == null) {
            throw new IOException("no AMQP channel available: the connection's channel-max is reached");
        }
        ConfirmChannel c = new ConfirmChannel(channel);
        channel.addShutdownListener(c::onShutdown);
        channel.addReturnListener(c::onReturn);
        channel.addConfirmListener(
                (tag, multiple) -> c.onConfirm(tag, multiple, Outcome.ACKED),
                (tag, multiple) -> c.onConfirm(tag, multiple, Outcome.NACKED));
        channel.confirmSelect();
        return c;
    }

    /**
     * Publishes every message, in order, then waits up to {@code timeout} for the publisher confirms.
     *
     * @return all confirmed, or the confirmed prefix and why the next message failed (nack, return, timeout, channel
     *     or connection closed); never a permanent rejection
     * @throws InterruptedException when interrupted while waiting; the channel is then unusable
     */
    PublishResult publish(List<Message> messages, Duration timeout) throws InterruptedException {
        int n = messages.size();
        lock.lock();
        try {
            outcomes = new Outcome[n];
            Arrays.fill(outcomes, Outcome.PENDING);
            messageIds = new String[n];
            returnReasons = new String[n];
            for (int i = 0; i < n; i++) {
                messageIds[i] = messages.get(i).properties().getMessageId();
            }
            firstSeq = channel.getNextPublishSeqNo();
        } finally {
            lock.unlock();
        }
        int sent = 0;
        Exception publishFailure = null;
        try {
            for (Message m : messages) {
                channel.basicPublish(m.exchange(), m.routingKey(), true, m.properties(), m.body());
                sent++;
            }
        } catch (IOException | ShutdownSignalException e) {
            publishFailure = e;
        }
        lock.lock();
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            long left = timeout.toNanos();
            while (!decided(sent) && shutdown == null && left > 0) {
                left = changed.awaitNanos(deadline - System.nanoTime());
            }
            PublishResult result = result(sent, publishFailure, timeout);
            if (publishFailure != null || anyPending(sent)) {
                broken = true;
            }
            return result;
        } catch (InterruptedException e) {
            broken = true;
            throw e;
        } finally {
            outcomes = null;
            lock.unlock();
        }
    }

    /** Whether the confirmed prefix of the first {@code sent} messages is known. */
    private boolean decided(int sent) {
        for (int i = 0; i < sent; i++) {
            if (outcomes[i] == Outcome.PENDING) {
                return false;
            }
            if (outcomes[i] != Outcome.ACKED) {
                return true;
            }
        }
        return true;
    }

    private boolean anyPending(int sent) {
        for (int i = 0; i < sent; i++) {
            if (outcomes[i] == Outcome.PENDING) {
                return true;
            }
        }
        return false;
    }

    private PublishResult result(int sent, Exception publishFailure, Duration timeout) {
        int prefix = 0;
        while (prefix < sent && outcomes[prefix] == Outcome.ACKED) {
            prefix++;
        }
        if (prefix == outcomes.length) {
            return PublishResult.confirmed(prefix);
        }
        if (prefix == sent) {
            return PublishResult.failed(prefix, "publishing to RabbitMQ failed: " + publishFailure, publishFailure);
        }
        String id = messageIds[prefix];
        switch (outcomes[prefix]) {
            case NACKED:
                return PublishResult.failed(prefix, "RabbitMQ nacked message " + id + " (publisher confirm)", null);
            case RETURNED:
                return PublishResult.failed(prefix, "message " + id + " is unroutable: " + returnReasons[prefix], null);
            default:
                return shutdown != null
                        ? PublishResult.failed(
                                prefix,
                                "the channel closed before RabbitMQ confirmed message " + id + ": "
                                        + shutdown.getMessage(),
                                shutdown)
                        : PublishResult.failed(
                                prefix,
                                "RabbitMQ did not confirm message " + id + " within " + timeout.toMillis()
                                        + " ms (amqp.confirm-timeout-ms)",
                                null);
        }
    }

    private void onConfirm(long tag, boolean multiple, Outcome outcome) {
        lock.lock();
        try {
            if (outcomes == null) {
                return; // a confirm of an abandoned batch; the channel is already marked broken
            }
            long from = multiple ? firstSeq : tag;
            for (long seq = Math.max(from, firstSeq); seq <= tag && seq < firstSeq + outcomes.length; seq++) {
                int i = (int) (seq - firstSeq);
                if (outcomes[i] == Outcome.PENDING) {
                    outcomes[i] = outcome;
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void onReturn(Return r) {
        String id = r.getProperties().getMessageId();
        String reason = "exchange '" + r.getExchange() + "' routed routing key '" + r.getRoutingKey()
                + "' to no queue (basic.return " + r.getReplyCode() + " " + r.getReplyText() + ")";
        lock.lock();
        try {
            if (outcomes == null) {
                return;
            }
            for (int i = 0; i < outcomes.length; i++) {
                if (outcomes[i] == Outcome.PENDING && messageIds[i].equals(id)) {
                    outcomes[i] = Outcome.RETURNED;
                    returnReasons[i] = reason;
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void onShutdown(ShutdownSignalException cause) {
        lock.lock();
        try {
            shutdown = cause;
            broken = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether another batch may use this channel. */
    boolean usable() {
        lock.lock();
        try {
            return !broken && channel.isOpen();
        } finally {
            lock.unlock();
        }
    }

    /** Closes the channel; failures (it is often closed already) are logged at debug level. */
    void close() {
        try {
            channel.close();
        } catch (IOException | TimeoutException | ShutdownSignalException e) {
            log.debug("Closing AMQP channel {} failed", channel.getChannelNumber(), e);
        }
    }
}
