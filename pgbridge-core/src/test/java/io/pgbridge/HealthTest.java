package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link PgBridge#health()}: live and ready, and the reasons when not ready. */
class HealthTest {
    private final InMemorySink sink = new InMemorySink();
    private final ScriptedSource source = new ScriptedSource();
    private PgBridge bridge;

    private PgBridge.Builder builder() {
        return source.bridgeTo(sink)
                .setting("health.lag-threshold-bytes", "1000")
                .shutdownTimeout(Duration.ofMillis(200));
    }

    @AfterEach
    void close() {
        if (bridge != null) {
            bridge.close();
        }
    }

    @Test
    void readyOnlyWhileRunningWithEverySourceReadingAndEveryRouteDelivering() throws Exception {
        bridge = builder().build();
        Health health = bridge.health();
        assertThat(health.live()).as("a new bridge is live").isTrue();
        assertThat(health.ready()).as("but not ready").isFalse();
        assertThat(health.problems()).containsExactly("the bridge is NEW");

        bridge.start();
        assertThat(bridge.health().problems())
                .as("a source still connecting")
                .singleElement()
                .asString()
                .startsWith("source scripted is STARTING since ");
        source.state(SourceState.READING, null);
        health = bridge.health();
        assertThat(health.ready()).as("ready: %s", health.problems()).isTrue();
        assertThat(health.sources()).extracting(SourceStats::state).containsExactly(SourceState.READING);
        assertThat(health.routes()).extracting(RouteStats::state).containsOnly(RouteState.DELIVERING);

        sink.setAvailable(false);
        source.publish("a", "x");
        await().until(() -> !bridge.health().ready());
        assertThat(bridge.health().problems())
                .singleElement()
                .asString()
                .startsWith("route a->queue:a is RETRYING since ")
                .endsWith("in-memory sink is unavailable");
        assertThat(bridge.health().live()).isTrue();
        sink.setAvailable(true);
        await().until(() -> bridge.health().ready());

        source.state(SourceState.RECONNECTING, "connection refused");
        assertThat(bridge.health().problems())
                .singleElement()
                .asString()
                .startsWith("source scripted is RECONNECTING since ")
                .endsWith(": connection refused");
        source.state(SourceState.READING, null);
        assertThat(bridge.health().ready()).isTrue();

        bridge.close();
        assertThat(bridge.health().live()).as("closed").isFalse();
        assertThat(bridge.health().ready()).isFalse();
    }

    @Test
    void aSlotPastTheLagThresholdIsNotReady() throws Exception {
        bridge = builder().build();
        bridge.start();
        source.state(SourceState.READING, null);
        source.lagBytes(1000);
        Health health = bridge.health();
        assertThat(health.ready()).as("at the threshold").isTrue();
        assertThat(health.lagExceeded(health.sources().get(0))).isFalse();

        source.lagBytes(1001);
        health = bridge.health();
        assertThat(health.ready()).as("past it").isFalse();
        assertThat(health.lagExceeded(health.sources().get(0))).isTrue();
        assertThat(health.problems())
                .containsExactly("source scripted is 1001 bytes behind the server's WAL, above the threshold of"
                        + " 1000 bytes");
    }

    @Test
    void aHaltedRouteIsNotReady() throws Exception {
        bridge = builder().build();
        bridge.start();
        source.state(SourceState.READING, null);
        sink.rejectWhen(e -> true);
        source.publish("b", "refused");
        await().until(() -> !bridge.health().ready());
        assertThat(bridge.health().routes())
                .extracting(RouteStats::state)
                .containsExactly(RouteState.DELIVERING, RouteState.HALTED);
        assertThat(bridge.health().problems())
                .singleElement()
                .asString()
                .startsWith("route b->queue:b is HALTED since ");
    }

    @Test
    void theThresholdDefaultsToOneGibibyte() throws Exception {
        bridge = PgBridge.builder()
                .postgres("postgresql://localhost/unused")
                .routes("a->queue:a")
                .source(source)
                .sink(sink)
                .build();
        assertThat(bridge.health().lagThresholdBytes()).isEqualTo(1L << 30);
    }
}
