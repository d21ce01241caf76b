package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FlushTrackerTest {

    @Test
    void acknowledgedCommitLsnIsNotFlushedBeforeTheWholeTransactionWasHandedOver() {
        FlushTracker t = new FlushTracker(100);
        t.published(500); // first events of the transaction committing at 500
        t.acknowledge(500); // the pipeline confirmed all events published so far
        assertThat(t.advance(450, true))
                .as("mid-transaction: later events still come")
                .isEqualTo(100);
        t.published(500);
        t.committed(500, 560);
        assertThat(t.advance(560, false))
                .as("whole transaction handed over and acknowledged")
                .isEqualTo(560);
    }

    @Test
    void unacknowledgedTransactionsHoldTheFlushedLsnAndKeepalivesDoNotPassThem() {
        FlushTracker t = new FlushTracker(0);
        t.published(500);
        t.committed(500, 560);
        t.published(700);
        t.committed(700, 760);
        assertThat(t.advance(9_000, false)).as("nothing acknowledged").isZero();
        t.acknowledge(500);
        assertThat(t.advance(9_000, false)).as("first transaction only").isEqualTo(560);
        assertThat(t.inFlight()).as("second one in flight").isTrue();
        t.acknowledge(700);
        assertThat(t.advance(9_000, false)).as("idle: the server's position").isEqualTo(9_000);
    }

    @Test
    void keepalivePositionIsFlushedOnlyWhenIdle() {
        FlushTracker t = new FlushTracker(10);
        assertThat(t.advance(2_000, false)).as("nothing ever published").isEqualTo(2_000);
        assertThat(t.advance(3_000, true)).as("inside a transaction").isEqualTo(2_000);
        assertThat(t.advance(1_000, false)).as("never backwards").isEqualTo(2_000);
    }
}
