package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** In a WAL run, the meters count exactly the changes committed, and the slot's lag is measured. */
class WalMetricsIT {
    private static final int TRANSACTIONS = 20;
    private static final int ROWS_PER_TRANSACTION = 250;

    @Test
    void countersMatchTheChangesCommitted() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        InMemorySink sink = new InMemorySink();
        try (WalFixture db = new WalFixture()) {
            String t = db.schema + ".items";
            String route = t + "->queue:items";
            db.exec("CREATE TABLE " + t + " (id int PRIMARY KEY, n int)");
            try (PgBridge bridge = db.bridge(route, sink)
                    .setting("wal.heartbeat-interval-ms", "200")
                    .meterRegistry(registry)
                    .build()) {
                bridge.start();
                for (int tx = 0; tx < TRANSACTIONS; tx++) {
                    int from = tx * ROWS_PER_TRANSACTION;
                    db.exec("INSERT INTO " + t + " SELECT g, 0 FROM generate_series(" + from + ", "
                            + (from + ROWS_PER_TRANSACTION - 1) + ") g");
                }
                db.exec("UPDATE " + t + " SET n = 1 WHERE id < 100");
                int changes = TRANSACTIONS * ROWS_PER_TRANSACTION + 100;
                sink.await(changes, Duration.ofSeconds(60));

                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    assertThat(registry.get("pgbridge.events.received")
                                    .tag("source", "wal")
                                    .functionCounter()
                                    .count())
                            .as("received")
                            .isEqualTo(changes);
                    assertThat(registry.get("pgbridge.events.delivered")
                                    .tag("route", route)
                                    .tag("sink", "memory")
                                    .functionCounter()
                                    .count())
                            .as("delivered")
                            .isEqualTo(changes);
                    assertThat(registry.get("pgbridge.delivery.latency")
                                    .tag("route", route)
                                    .timer()
                                    .count())
                            .as("commit-to-confirm samples: at least one per transaction, at most one per change")
                            .isBetween((long) TRANSACTIONS + 1, (long) changes);
                    assertThat(registry.get("pgbridge.buffer.events").gauge().value())
                            .as("nothing left in flight")
                            .isZero();
                    assertThat(registry.get("pgbridge.slot.lag.bytes")
                                    .tag("source", "wal")
                                    .gauge()
                                    .value())
                            .as("slot lag measured")
                            .isNotNaN()
                            .isGreaterThanOrEqualTo(0);
                });
                assertThat(registry.get("pgbridge.events.retried")
                                .functionCounter()
                                .count())
                        .isZero();
                assertThat(registry.get("pgbridge.events.failed")
                                .functionCounter()
                                .count())
                        .isZero();
                assertThat(registry.get("pgbridge.source.state")
                                .tag("source", "wal")
                                .tag("state", "reading")
                                .gauge()
                                .value())
                        .isEqualTo(1);
                assertThat(bridge.health().ready())
                        .as("%s", bridge.health().problems())
                        .isTrue();
            }
            assertThat(registry.getMeters()).as("meters removed at close").isEmpty();
        }
    }
}
