package io.pgbridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import io.pgbridge.spi.PublishResult;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AMQP channel in publisher-confirm mode, with any number of batches in flight (pipelining). Each batch is
 * published whole ({@code mandatory=true}) while no other batch is being published on the channel, so its messages
 * have consecutive sequence numbers and batches reach the broker in the order {@link #publishAsync} was called; its
 * result completes once its confirmed prefix is known.
 *
 * <p>Confirms, returns and shutdown arrive on the connection's I/O thread, in the order the broker sent them. An
 * unroutable message is still acked, but when it was published as mandatory RabbitMQ sends its {@code basic.return}
 * before that {@code basic.ack} (RabbitMQ documentation, "Consumer Acknowledgements and Publisher Confirms", section
 * "When Will Published Messages Be Confirmed by the Broker?"), so a returned message is marked as such before its ack
 * comes; returns are matched by {@code message-id}. Acks may cover several sequence numbers ({@code multiple=true})
 * and may come in any order; each message's outcome is recorded by its sequence number, and a batch's result is the
 * prefix of acked messages. A confirm names sequence numbers, so a late confirm of a batch already decided (a nack
 * decided it early, or its timeout) speaks of no other batch and is ignored.
 *
 * <p>After a publish error or a shutdown the channel is {@linkplain #usable() unusable}: a recovered channel restarts
 * its sequence numbers, so the sink discards it and opens a fresh one; the batches in flight then fail with what was
 * confirmed before. Thread-safe.
 */
final class ConfirmChannel {
    private static final Logger log = LoggerFactory.getLogger(ConfirmChannel.class);
    /** How much longer than the confirm timeout {@link #publish} waits before it expires the batch itself. */
    private static final long EXPIRY_GRACE_MILLIS = 1_000;

    /** What one message of a batch became. */
    private enum Outcome {
        PENDING,
        ACKED,
        NACKED,
        RETURNED
    }

    /** One message to publish; its properties' {@code message-id} identifies a {@code basic.return}. */
    record Message(String exchange, String routingKey, AMQP.BasicProperties properties, byte[] body) {}

    /** One batch in flight: {@code outcomes[i]} belongs to sequence number {@code firstSeq + i}. Guarded by lock. */
    private static final class Batch {
        final long firstSeq;
        final Outcome[] outcomes;
        final String[] messageIds;
        final String[] returnReasons;
        final Duration timeout;
        final CompletableFuture<PublishResult> result = new CompletableFuture<>();
        int sent = -1; // messages published; -1 while publishing
        Exception publishFailure;
        boolean expired;
        int acked; // the acked prefix found so far

        Batch(long firstSeq, List<Message> messages, Duration timeout) {
            int n = messages.size();
            this.firstSeq = firstSeq;
            this.outcomes = new Outcome[n];
            Arrays.fill(outcomes, Outcome.PENDING);
            this.messageIds = new String[n];
            this.returnReasons = new String[n];
            for (int i = 0; i < n; i++) {
                messageIds[i] = messages.get(i).properties().getMessageId();
            }
            this.timeout = timeout;
        }
    }

    private final Channel channel;
    /** Held while a batch is written, so that a batch's sequence numbers are consecutive; never with {@link #lock}. */
    private final ReentrantLock publishing = new ReentrantLock();

    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private final ArrayDeque<Batch> pending = new ArrayDeque<>();
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
        try {
            channel.confirmSelect();
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * Publishes every message, in order, after those of earlier calls, and returns at once; the result completes when
     * the confirmed prefix is known, or {@code timeout} after the batch was written.
     *
     * @return completes (never exceptionally) with all confirmed, or the confirmed prefix and why the next message
     *     failed (nack, return, timeout, channel or connection closed); never a permanent rejection
     */
    CompletableFuture<PublishResult> publishAsync(List<Message> messages, Duration timeout) {
        return start(messages, timeout).result;
    }

    /**
     * Publishes every message, in order, then waits up to {@code timeout} for the publisher confirms.
     *
     * @return as {@link #publishAsync}
     * @throws InterruptedException when interrupted while waiting; the channel is then unusable
     */
    PublishResult publish(List<Message> messages, Duration timeout) throws InterruptedException {
        Batch batch = start(messages, timeout);
        try {
            return batch.result.get(timeout.toMillis() + EXPIRY_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            expire(batch);
            return batch.result.join();
        } catch (ExecutionException e) {
            throw new IllegalStateException("a batch's result never completes exceptionally", e.getCause());
        } catch (InterruptedException e) {
            lock.lock();
            try {
                broken = true;
            } finally {
                lock.unlock();
            }
            throw e;
        }
    }

    private Batch start(List<Message> messages, Duration timeout) {
        List<Batch> decided;
        Batch batch;
        publishing.lock();
        try {
            lock.lock();
            try {
                batch = new Batch(channel.getNextPublishSeqNo(), messages, timeout);
                pending.addLast(batch);
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
            } catch (IOException | RuntimeException e) { // RuntimeException: ShutdownSignalException above all
                publishFailure = e;
            }
            lock.lock();
            try {
                batch.sent = sent;
                batch.publishFailure = publishFailure;
                if (publishFailure != null) {
                    broken = true;
                }
                decided = decide();
            } finally {
                lock.unlock();
            }
        } finally {
            publishing.unlock();
        }
        complete(decided);
        if (!batch.result.isDone()) {
            // A timer cancelled once the batch is decided, so that decided batches are not kept until their timeout.
            CompletableFuture<Void> timer =
                    new CompletableFuture<Void>().completeOnTimeout(null, timeout.toNanos(), TimeUnit.NANOSECONDS);
            timer.thenRun(() -> expire(batch));
            batch.result.whenComplete((r, e) -> timer.cancel(false));
        }
        return batch;
    }

    /** The batch's confirm timeout passed: it is decided with what was confirmed by now. */
    private void expire(Batch batch) {
        List<Batch> decided;
        lock.lock();
        try {
            if (batch.result.isDone() || !pending.contains(batch)) {
                return;
            }
            batch.expired = true;
            decided = decide();
        } finally {
            lock.unlock();
        }
        complete(decided);
    }

    /** Removes the batches whose result is known from {@link #pending} and returns them with their results set. */
    private List<Batch> decide() {
        List<Batch> decided = null;
        for (var it = pending.iterator(); it.hasNext(); ) {
            Batch b = it.next();
            if (b.sent >= 0 && (shutdown != null || b.expired || prefixKnown(b))) {
                it.remove();
                if (decided == null) {
                    decided = new ArrayList<>();
                }
                decided.add(b);
            }
        }
        return decided == null ? List.of() : decided;
    }

    /** Whether the confirmed prefix of the batch's sent messages is known (advances {@code acked}). */
    private static boolean prefixKnown(Batch b) {
        while (b.acked < b.sent && b.outcomes[b.acked] == Outcome.ACKED) {
            b.acked++;
        }
        return b.acked == b.sent || b.outcomes[b.acked] != Outcome.PENDING;
    }

    /** Completes the decided batches' results, outside the lock (a result's callbacks run here). */
    private void complete(List<Batch> decided) {
        for (Batch b : decided) {
            PublishResult result;
            lock.lock();
            try {
                result = result(b);
            } finally {
                lock.unlock();
            }
            b.result.complete(result);
        }
    }

    private PublishResult result(Batch b) {
        int prefix = 0;
        while (prefix < b.sent && b.outcomes[prefix] == Outcome.ACKED) {
            prefix++;
        }
        if (prefix == b.outcomes.length) {
            return PublishResult.confirmed(prefix);
        }
        if (prefix == b.sent) {
            return PublishResult.failed(prefix, "publishing to RabbitMQ failed: " + b.publishFailure, b.publishFailure);
        }
        String id = b.messageIds[prefix];
        switch (b.outcomes[prefix]) {
            case NACKED:
                return PublishResult.failed(prefix, "RabbitMQ nacked message " + id + " (publisher confirm)", null);
            case RETURNED:
                return PublishResult.failed(
                        prefix, "message " + id + " is unroutable: " + b.returnReasons[prefix], null);
            default:
                return shutdown != null
                        ? PublishResult.failed(
                                prefix,
                                "the channel closed before RabbitMQ confirmed message " + id + ": "
                                        + shutdown.getMessage(),
                                shutdown)
                        : PublishResult.failed(
                                prefix,
                                "RabbitMQ did not confirm message " + id + " within " + b.timeout.toMillis()
                                        + " ms (amqp.confirm-timeout-ms)",
                                null);
        }
    }

    private void onConfirm(long tag, boolean multiple, Outcome outcome) {
        List<Batch> decided;
        lock.lock();
        try {
            if (shutdown != null) {
                // A confirm from the channel amqp-client recovered after a shutdown, whose sequence numbers restarted
                // at 1: it speaks about no batch of this channel.
                return;
            }
            for (Batch b : pending) {
                long from = multiple ? b.firstSeq : Math.max(tag, b.firstSeq);
                long to = Math.min(tag, b.firstSeq + b.outcomes.length - 1);
                for (long seq = from; seq <= to; seq++) {
                    int i = (int) (seq - b.firstSeq);
                    if (b.outcomes[i] == Outcome.PENDING) {
                        b.outcomes[i] = outcome;
                    }
                }
            }
            decided = decide();
        } finally {
            lock.unlock();
        }
        complete(decided);
    }

    private void onReturn(Return r) {
        String id = r.getProperties().getMessageId();
        String reason = "exchange '" + r.getExchange() + "' routed routing key '" + r.getRoutingKey()
                + "' to no queue (basic.return " + r.getReplyCode() + " " + r.getReplyText() + ")";
        List<Batch> decided;
        lock.lock();
        try {
            if (shutdown != null) {
                return;
            }
            for (Batch b : pending) {
                for (int i = 0; i < b.outcomes.length; i++) {
                    if (b.outcomes[i] == Outcome.PENDING && b.messageIds[i].equals(id)) {
                        b.outcomes[i] = Outcome.RETURNED;
                        b.returnReasons[i] = reason;
                    }
                }
            }
            decided = decide();
        } finally {
            lock.unlock();
        }
        complete(decided);
    }

    private void onShutdown(ShutdownSignalException cause) {
        List<Batch> decided;
        lock.lock();
        try {
            shutdown = cause;
            broken = true;
            decided = decide();
        } finally {
            lock.unlock();
        }
        complete(decided);
    }

    /** Whether another batch may use this channel: it is open and no publish on it failed. */
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
