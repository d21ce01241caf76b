package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;
import io.pgbridge.spi.PublishResult;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ConfirmChannelTest {
    private static final Duration LONG = Duration.ofSeconds(20);

    private final ScriptedChannel broker = new ScriptedChannel();
    private final ConfirmChannel channel = open();

    private ConfirmChannel open() {
        try {
            return ConfirmChannel.open(broker.connection());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static List<ConfirmChannel.Message> messages(int n) {
        return IntStream.rangeClosed(1, n)
                .mapToObj(i -> new ConfirmChannel.Message(
                        "x",
                        "key",
                        new AMQP.BasicProperties.Builder().messageId("m" + i).build(),
                        new byte[] {(byte) i}))
                .collect(Collectors.toList());
    }

    @Test
    void acksInAnyOrderConfirmTheWholeBatch() throws InterruptedException {
        broker.afterPublish(n -> {
            if (n == 3) {
                broker.ack(3, false);
                broker.ack(1, false);
                broker.ack(2, false);
            }
        });

        PublishResult result = channel.publish(messages(3), LONG);

        assertThat(result.isFailure()).as(result.toString()).isFalse();
        assertThat(result.confirmed()).isEqualTo(3);
        assertThat(channel.usable()).isTrue();
    }

    @Test
    void multipleAckCoversEveryEarlierMessage() throws InterruptedException {
        broker.afterPublish(n -> {
            if (n == 2) {
                broker.ack(2, true); // acks 1 and 2 while 3 is not even published
            } else if (n == 3) {
                broker.ack(3, false);
            }
        });

        assertThat(channel.publish(messages(3), LONG).confirmed()).isEqualTo(3);
    }

    @Test
    void aNackEndsThePrefixEvenWhenLaterMessagesAreAcked() throws InterruptedException {
        broker.afterPublish(n -> {
            if (n == 3) {
                broker.ack(3, false);
                broker.nack(2, false);
                broker.ack(1, false);
            }
        });

        PublishResult result = channel.publish(messages(3), LONG);

        assertThat(result.confirmed()).as("prefix before the nack").isEqualTo(1);
        assertThat(result.isPermanent()).as("a nack is retried").isFalse();
        assertThat(result.reason()).contains("nacked message m2");
        assertThat(channel.usable())
                .as("every confirm arrived, the channel is fine")
                .isTrue();
    }

    @Test
    void aReturnedMessageIsNotConfirmedByItsAck() throws InterruptedException {
        broker.afterPublish(n -> {
            if (n == 3) {
                broker.returnMessage(2); // the broker sends basic.return before the ack
                broker.ack(3, true);
            }
        });

        PublishResult result = channel.publish(messages(3), LONG);

        assertThat(result.confirmed()).isEqualTo(1);
        assertThat(result.reason()).contains("m2 is unroutable", "312 NO_ROUTE");
    }

    @Test
    void aFailureIsReportedWithoutWaitingForLaterConfirms() throws InterruptedException {
        broker.afterPublish(n -> {
            if (n == 3) {
                broker.nack(1, false);
            }
        });
        long started = System.nanoTime();

        PublishResult result = channel.publish(messages(3), LONG);

        assertThat(result.confirmed()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .as("no wait for confirms of messages 2 and 3")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(channel.usable())
                .as("confirms of 2 and 3 are still due, but they name sequence numbers of this batch only")
                .isTrue();
        broker.afterPublish(n -> {
            if (n == 4) {
                broker.ack(3, true); // the late confirms of the decided batch
                broker.ack(4, false);
            }
        });
        assertAllConfirmed(channel.publish(messages(1), LONG), 1);
    }

    @Test
    void missingConfirmsTimeOut() throws InterruptedException {
        broker.afterPublish(n -> {
            if (n == 1) {
                broker.ack(1, false);
            }
        });

        PublishResult result = channel.publish(messages(2), Duration.ofMillis(200));

        assertThat(result.confirmed()).isEqualTo(1);
        assertThat(result.reason()).contains("did not confirm message m2 within 200 ms");
        assertThat(channel.usable())
                .as("a late confirm may still come, and names only this batch's sequence numbers")
                .isTrue();
    }

    @Test
    void aConfirmArrivingWhileWaitingWakesThePublisher() throws Exception {
        CompletableFuture<PublishResult> result = publishAndWait(messages(2));

        broker.ack(2, true);

        assertThat(result.get(10, TimeUnit.SECONDS).confirmed()).isEqualTo(2);
    }

    @Test
    void aShutdownWhileWaitingFailsTheUnconfirmedRest() throws Exception {
        broker.afterPublish(n -> {
            if (n == 1) {
                broker.ack(1, false);
            }
        });
        CompletableFuture<PublishResult> result = publishAndWait(messages(2));

        broker.shutDown();

        PublishResult r = result.get(10, TimeUnit.SECONDS);
        assertThat(r.confirmed()).isEqualTo(1);
        assertThat(r.reason()).contains("channel closed before RabbitMQ confirmed message m2");
        assertThat(r.cause()).isInstanceOf(ShutdownSignalException.class);
        assertThat(channel.usable()).isFalse();
    }

    /** Publishes on another thread and returns once that thread waits for confirms. */
    private CompletableFuture<PublishResult> publishAndWait(List<ConfirmChannel.Message> messages) {
        AtomicReference<Thread> publisher = new AtomicReference<>();
        CompletableFuture<PublishResult> result = CompletableFuture.supplyAsync(() -> {
            publisher.set(Thread.currentThread());
            try {
                return channel.publish(messages, LONG);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10))
                .until(() -> result.isDone()
                        || (publisher.get() != null && publisher.get().getState() == Thread.State.TIMED_WAITING));
        assertThat(result).as("still waiting for confirms").isNotDone();
        return result;
    }

    @Test
    void confirmsAfterAShutdownComeFromARecoveredChannelAndDoNotCount() throws InterruptedException {
        broker.afterPublish(n -> {
            if (n == 2) {
                broker.ack(1, false);
                broker.shutDown();
                broker.ack(2, true); // sequence numbers of a recovered channel restart at 1
            }
        });

        PublishResult result = channel.publish(messages(2), LONG);

        assertThat(result.confirmed())
                .as("only the ack before the shutdown counts")
                .isEqualTo(1);
    }

    @Test
    void aPublishErrorKeepsTheConfirmedPrefix() throws InterruptedException {
        broker.failOnPublish(2);
        broker.afterPublish(n -> broker.ack(n, false));

        PublishResult result = channel.publish(messages(3), LONG);

        assertThat(result.confirmed()).isEqualTo(1);
        assertThat(result.reason()).contains("publishing to RabbitMQ failed");
        assertThat(channel.usable()).isFalse();
    }

    @Test
    void confirmsOfAnEarlierBatchDoNotCountForTheNextOne() throws InterruptedException {
        broker.afterPublish(n -> broker.ack(n, false));
        assertThat(channel.publish(messages(2), LONG).confirmed()).isEqualTo(2);

        broker.afterPublish(n -> {
            if (n == 3) {
                broker.ack(2, false); // a duplicate of an old confirm: sequence numbers 3 and 4 are still due
            }
        });
        PublishResult second = channel.publish(messages(2), Duration.ofMillis(200));

        assertThat(second.confirmed())
                .as("nothing of the second batch was confirmed")
                .isZero();
    }

    private static void assertAllConfirmed(PublishResult result, int n) {
        assertThat(result.isFailure()).as(result.toString()).isFalse();
        assertThat(result.confirmed()).isEqualTo(n);
    }

    @Test
    void batchesInFlightTogetherAreDecidedEachByItsOwnConfirms() throws Exception {
        CompletableFuture<PublishResult> first = channel.publishAsync(messages(2), LONG);
        CompletableFuture<PublishResult> second = channel.publishAsync(messages(2), LONG);
        assertThat(broker.published)
                .as("both batches on the wire, in call order")
                .hasSize(4);
        assertThat(first).isNotDone();
        assertThat(second).isNotDone();

        broker.ack(4, false);
        broker.ack(3, false);
        assertAllConfirmed(second.get(10, TimeUnit.SECONDS), 2);
        assertThat(first).as("its confirms are still due").isNotDone();

        broker.nack(2, true);
        PublishResult r = first.get(10, TimeUnit.SECONDS);
        assertThat(r.confirmed()).isZero();
        assertThat(r.reason()).contains("nacked message m1");
    }

    @Test
    void aMultipleAckSpansBatches() throws Exception {
        CompletableFuture<PublishResult> first = channel.publishAsync(messages(2), LONG);
        CompletableFuture<PublishResult> second = channel.publishAsync(messages(3), LONG);

        broker.ack(4, true);

        assertAllConfirmed(first.get(10, TimeUnit.SECONDS), 2);
        assertThat(second).as("sequence number 5 is still due").isNotDone();
        broker.ack(5, false);
        assertAllConfirmed(second.get(10, TimeUnit.SECONDS), 3);
    }

    @Test
    void aShutdownFailsEveryBatchInFlightWithItsConfirmedPrefix() throws Exception {
        CompletableFuture<PublishResult> first = channel.publishAsync(messages(2), LONG);
        CompletableFuture<PublishResult> second = channel.publishAsync(messages(2), LONG);
        broker.ack(3, true);

        broker.shutDown();

        assertAllConfirmed(first.get(10, TimeUnit.SECONDS), 2);
        PublishResult r = second.get(10, TimeUnit.SECONDS);
        assertThat(r.confirmed()).isEqualTo(1);
        assertThat(r.reason()).contains("channel closed before RabbitMQ confirmed message m2");
        assertThat(channel.usable()).isFalse();
    }

    @Test
    void anAsyncBatchWithoutConfirmsTimesOut() throws Exception {
        CompletableFuture<PublishResult> result = channel.publishAsync(messages(1), Duration.ofMillis(100));

        PublishResult r = result.get(10, TimeUnit.SECONDS);

        assertThat(r.confirmed()).isZero();
        assertThat(r.reason()).contains("did not confirm message m1 within 100 ms");
    }

    @Test
    void interruptedWhileWaitingLeavesTheChannelUnusable() {
        Thread.currentThread().interrupt();

        assertThatThrownBy(() -> channel.publish(messages(1), LONG)).isInstanceOf(InterruptedException.class);
        assertThat(channel.usable()).isFalse();
    }
}
