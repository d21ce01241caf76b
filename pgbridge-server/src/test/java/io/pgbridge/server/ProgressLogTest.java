package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.server.ProgressLog.Snapshot;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** The progress line: rates over the interval while events flow, nothing while idle. */
class ProgressLogTest {
    private static final long SECOND = 1_000_000_000L;

    /**
     * The invariant: an interval gets a line exactly when something was received, delivered or retried in it or is in
     * flight at its end, and the line states the interval's deliveries and retries.
     */
    @Property
    void aLineExactlyWhenTheBridgeWasNotIdle(
            @ForAll @LongRange(max = 1_000_000) long received,
            @ForAll @LongRange(max = 1_000) long newlyReceived,
            @ForAll @LongRange(max = 1_000) long newlyDelivered,
            @ForAll @LongRange(max = 50) long newRetries,
            @ForAll @IntRange(max = 10_000) int inFlight,
            @ForAll @LongRange(min = 1, max = 120) long seconds) {
        Snapshot before = new Snapshot(5 * SECOND, received, received, 3, 0, Map.of());
        Snapshot now = new Snapshot(
                (5 + seconds) * SECOND,
                received + newlyReceived,
                received + newlyDelivered,
                3 + newRetries,
                inFlight,
                Map.of("wal", 10L));

        String line = ProgressLog.line(before, now);

        boolean idle = newlyReceived == 0 && newlyDelivered == 0 && newRetries == 0 && inFlight == 0;
        if (idle) {
            assertThat(line).isNull();
        } else {
            assertThat(line)
                    .startsWith("progress: ")
                    .contains("(" + newlyDelivered + " delivered in " + seconds + " s)")
                    .contains(newlyReceived + " received")
                    .contains(inFlight + " in flight")
                    .endsWith(newRetries + " retries");
        }
    }

    @Test
    void aLineWhileEventsFlow() {
        Snapshot before = new Snapshot(0, 1_000, 990, 2, 10, Map.of());
        Snapshot now = new Snapshot(30 * SECOND, 31_000, 30_990, 2, 5, Map.of("wal", 2048L, "outbox", 0L));

        assertThat(ProgressLog.line(before, now))
                .isEqualTo("progress: 1000.0 events/s (30000 delivered in 30 s), 30000 received, "
                        + "lag outbox=0 bytes, wal=2048 bytes, 5 in flight, 0 retries");
    }

    @Test
    void aLineWhileABrokerIsDownAndEventsWait() {
        Snapshot before = new Snapshot(0, 500, 400, 0, 100, Map.of());
        Snapshot now = new Snapshot(30 * SECOND, 500, 400, 7, 100, Map.of());

        assertThat(ProgressLog.line(before, now))
                .isEqualTo("progress: 0.0 events/s (0 delivered in 30 s), 0 received, lag not measured, "
                        + "100 in flight, 7 retries");
    }

    @Test
    void noLineWhileIdle() {
        Snapshot before = new Snapshot(0, 500, 500, 3, 0, Map.of("wal", 120L));
        Snapshot now = new Snapshot(30 * SECOND, 500, 500, 3, 0, Map.of("wal", 56L));

        assertThat(ProgressLog.line(before, now)).isNull();
    }
}
