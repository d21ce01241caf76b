package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.server.ProgressLog.Snapshot;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The progress line: rates over the interval while events flow, nothing while idle. */
class ProgressLogTest {
    private static final long SECOND = 1_000_000_000L;

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
