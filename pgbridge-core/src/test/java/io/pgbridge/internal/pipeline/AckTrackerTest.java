package io.pgbridge.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.SourceContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AckTrackerTest {
    private final List<Long> acks = new ArrayList<>();
    private final EventSource source = new EventSource() {
        @Override
        public String name() {
            return "test";
        }

        @Override
        public void start(SourceContext context) {}

        @Override
        public void acknowledge(long position) {
            acks.add(position);
        }

        @Override
        public void stop() {}

        @Override
        public void close() {}
    };
    private final AckTracker tracker = new AckTracker(source, 8);

    @Test
    void acknowledgesOnlyTheContiguousConfirmedPrefix() {
        long a = tracker.register(10, 1);
        long b = tracker.register(20, 1);
        long c = tracker.register(30, 1);

        complete(c);
        complete(b);
        assertThat(acks).as("nothing while the oldest is unconfirmed").isEmpty();

        complete(a);
        assertThat(acks).as("one jump to the newest once the gap closes").containsExactly(30L);
    }

    @Test
    void neverAcknowledgesAPositionThatStillHasUnconfirmedEvents() {
        long a1 = tracker.register(10, 1);
        long b1 = tracker.register(20, 1);
        long b2 = tracker.register(20, 1);
        long c1 = tracker.register(30, 1);

        complete(a1);
        complete(b1);
        assertThat(acks).as("20 has an unconfirmed second event").containsExactly(10L);

        complete(c1);
        assertThat(acks).containsExactly(10L);

        complete(b2);
        assertThat(acks).containsExactly(10L, 30L);
    }

    @Test
    void waitsForEveryRouteOfAnEvent() {
        long a = tracker.register(5, 2);

        assertThat(complete(a)).isFalse();
        assertThat(acks).isEmpty();
        assertThat(complete(a)).isTrue();
        assertThat(acks).containsExactly(5L);
    }

    @Test
    void unroutedEventsPassAtOnceButKeepTheirPlace() {
        long a = tracker.register(1, 1);
        tracker.register(2, 0);
        assertThat(acks).isEmpty();

        complete(a);
        assertThat(acks).containsExactly(2L);
        tracker.register(3, 0);
        assertThat(acks).containsExactly(2L, 3L);
    }

    @Test
    void reusesTheRingAndRefusesOverflow() {
        for (int i = 0; i < 100; i++) {
            complete(tracker.register(i, 1));
        }
        assertThat(tracker.acknowledged()).isEqualTo(99L);
        for (int i = 0; i < 8; i++) {
            tracker.register(100 + i, 1);
        }
        assertThatThrownBy(() -> tracker.register(200, 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void batchCompletionTellsWhichEventsAreDoneAndAcknowledgesOnce() {
        long a1 = tracker.register(10, 1);
        long a2 = tracker.register(10, 2); // routed to two lanes
        long b1 = tracker.register(20, 1);
        long c1 = tracker.register(30, 1);
        boolean[] done = new boolean[3];

        tracker.complete(new long[] {a1, a2, c1}, 3, done);
        assertThat(done).as("a2 still waits for its second route").containsExactly(true, false, true);
        assertThat(acks).as("10 has an unconfirmed route").isEmpty();

        tracker.complete(new long[] {a2, b1}, 2, done);
        assertThat(done).as("both done now").startsWith(true, true);
        assertThat(acks)
                .as("one acknowledgement for the whole batch, up to the newest")
                .containsExactly(30L);
        assertThatThrownBy(() -> tracker.complete(new long[] {b1}, 1, done))
                .as("a route completed twice")
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rejectsDecreasingPositions() {
        tracker.register(10, 1);
        assertThatThrownBy(() -> tracker.register(9, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not decrease");
    }

    /** One route of one event done, through the tracker's batch method: whether the event is done on all routes. */
    private boolean complete(long seq) {
        boolean[] done = new boolean[1];
        tracker.complete(new long[] {seq}, 1, done);
        return done[0];
    }
}
