package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class FlushTrackerTest {

    @Test
    void flushesWhereARestartResumesAfterTheAcknowledgedPosition() {
        FlushTracker t = new FlushTracker(100);
        t.sealed(559);
        assertThat(t.advance(560, false)).as("sealed, not acknowledged").isEqualTo(100);
        t.acknowledge(559);
        assertThat(t.advance(560, false))
                .as("acknowledged: resume at its end LSN")
                .isEqualTo(560);
    }

    @Test
    void theServerPositionIsFlushedOnlyWhenEverySealedPositionIsAcknowledgedAndNoTransactionIsOpen() {
        FlushTracker t = new FlushTracker(0);
        t.sealed(559);
        t.sealed(759);
        t.acknowledge(559);
        assertThat(t.advance(9_000, false))
                .as("a later transaction unacknowledged")
                .isEqualTo(560);
        t.acknowledge(759);
        assertThat(t.advance(9_000, true)).as("a transaction open").isEqualTo(760);
        assertThat(t.advance(9_000, false)).as("idle: the server's position").isEqualTo(9_000);
        assertThat(t.advance(1_000, false)).as("never backwards").isEqualTo(9_000);
    }

    @Test
    void nothingEverPublishedFollowsTheServer() {
        FlushTracker t = new FlushTracker(10);
        assertThat(t.advance(2_000, false)).isEqualTo(2_000);
        assertThat(t.advance(3_000, true)).as("inside a transaction").isEqualTo(2_000);
    }

    @Test
    void anAcknowledgementBetweenReadingAndWaitingEndsTheWaitAtOnce() throws Exception {
        FlushTracker t = new FlushTracker(0);
        long known = t.acknowledged();
        Thread delivery = new Thread(() -> t.acknowledge(559));
        delivery.start();
        delivery.join();
        long started = System.nanoTime();
        assertThat(t.awaitAcknowledged(known, TimeUnit.SECONDS.toNanos(30))).isEqualTo(559);
        assertThat(System.nanoTime() - started).as("no wait").isLessThan(TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void anUnparkBeforeTheWaitEndsItEarlyAsTheSourceStops() throws Exception {
        FlushTracker t = new FlushTracker(0);
        LockSupport.unpark(Thread.currentThread()); // stop() does this to the reader
        long started = System.nanoTime();
        assertThat(t.awaitAcknowledged(t.acknowledged(), TimeUnit.SECONDS.toNanos(30)))
                .isEqualTo(Long.MIN_VALUE);
        assertThat(System.nanoTime() - started).isLessThan(TimeUnit.SECONDS.toNanos(5));
    }
}
