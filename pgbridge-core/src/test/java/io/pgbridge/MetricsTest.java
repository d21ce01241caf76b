package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The meters of {@code PgBridge.Builder#meterRegistry} against a {@link SimpleMeterRegistry}. */
class MetricsTest {
    private static final String A = "a->queue:a";
    private static final String B = "b->queue:b";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final InMemorySink sink = new InMemorySink();
    private final ScriptedSource source = new ScriptedSource();
    private PgBridge bridge;

    private PgBridge.Builder builder() {
        return source.bridgeTo(sink).meterRegistry(registry);
    }

    @AfterEach
    void close() {
        if (bridge != null) {
            bridge.close();
        }
    }

    @Test
    void countersFollowTheEvents() throws Exception {
        bridge = builder().maxBatchSize(10).build();
        bridge.start();
        sink.failNext(3);
        Instant committed = Instant.now().minusMillis(250);
        for (int i = 0; i < 100; i++) {
            source.commitTime(committed.plusNanos(1000L * i)); // each event a transaction of its own
            source.publish("a", Integer.toString(i));
        }
        source.commitTime(null);
        for (int i = 0; i < 50; i++) {
            source.publish("b", Integer.toString(i));
        }
        source.publish("nowhere", "unrouted");
        sink.await(150, Duration.ofSeconds(10));

        assertThat(counter("pgbridge.events.received", "source", "scripted"))
                .as("received")
                .isEqualTo(151);
        await().untilAsserted(() -> {
            assertThat(counter("pgbridge.events.delivered", "route", A))
                    .as("delivered on a")
                    .isEqualTo(100);
            assertThat(counter("pgbridge.events.delivered", "route", B))
                    .as("delivered on b")
                    .isEqualTo(50);
            assertThat(gauge("pgbridge.buffer.events")).as("buffer events").isZero();
            assertThat(gauge("pgbridge.buffer.bytes")).as("buffer bytes").isZero();
        });
        assertThat(counter("pgbridge.events.retried", "route", A) + counter("pgbridge.events.retried", "route", B))
                .as("failed attempts, all retried")
                .isEqualTo(3)
                .isEqualTo(bridge.stats().retries());
        assertThat(counter("pgbridge.events.failed", "route", A))
                .as("nothing refused for good")
                .isZero();
        assertThat(registry.get("pgbridge.events.delivered")
                        .tag("route", A)
                        .functionCounter()
                        .getId()
                        .getTag("sink"))
                .isEqualTo("memory");

        Timer latency =
                registry.get("pgbridge.delivery.latency").tag("route", A).timer();
        assertThat(latency.count())
                .as("one commit-to-confirm sample per transaction with a commit time")
                .isEqualTo(100);
        assertThat(latency.max(TimeUnit.MILLISECONDS))
                .as("at least the 250 ms since the commit")
                .isGreaterThan(250);
        assertThat(registry.get("pgbridge.delivery.latency")
                        .tag("route", B)
                        .timer()
                        .count())
                .as("events without a commit time are not timed")
                .isZero();
        long publishCalls = sink.publishCalls();
        source.commitTime(committed);
        for (int i = 0; i < 30; i++) {
            source.publish("a", "one transaction " + i);
        }
        sink.await(180, Duration.ofSeconds(10));
        await().untilAsserted(() -> assertThat(latency.count() - 100)
                .as("a transaction's events confirmed together are one sample; at most one per publish call")
                .isBetween(1L, sink.publishCalls() - publishCalls));
        assertThat(registry.get("pgbridge.sink.confirm.latency")
                        .tag("route", A)
                        .timer()
                        .count())
                .as("one sample per publish call")
                .isBetween(10L, sink.publishCalls());
        assertThat(registry.get("pgbridge.slot.lag.bytes").gauge().value())
                .as("a source that does not measure lag")
                .isNaN();
        assertThat(registry.get("pgbridge.notify.dropped").functionCounter().count())
                .isZero();
    }

    @Test
    void statesShowOneForTheCurrentState() throws Exception {
        bridge = builder().build();
        bridge.start();
        source.state(SourceState.READING, null);
        assertThat(gauge("pgbridge.source.state", "state", "reading")).isEqualTo(1);
        assertThat(gauge("pgbridge.source.state", "state", "reconnecting")).isZero();
        assertThat(gauge("pgbridge.route.state", "route", A, "state", "delivering"))
                .isEqualTo(1);

        sink.setAvailable(false);
        source.publish("a", "x");
        await().untilAsserted(() -> assertThat(gauge("pgbridge.route.state", "route", A, "state", "retrying"))
                .isEqualTo(1));
        assertThat(gauge("pgbridge.route.state", "route", A, "state", "delivering"))
                .isZero();
        assertThat(gauge("pgbridge.route.state", "route", B, "state", "delivering"))
                .as("the other route")
                .isEqualTo(1);
        source.state(SourceState.RECONNECTING, "lost");
        assertThat(gauge("pgbridge.source.state", "state", "reading")).isZero();
        assertThat(gauge("pgbridge.source.state", "state", "reconnecting")).isEqualTo(1);

        sink.setAvailable(true);
        await().untilAsserted(() -> assertThat(gauge("pgbridge.route.state", "route", A, "state", "delivering"))
                .isEqualTo(1));
    }

    @Test
    void anEventRefusedForGoodCountsOnceWhetherDeadLetteredOrHalting() throws Exception {
        bridge = builder().deadLetterHandler((event, target, reason) -> {}).build();
        bridge.start();
        sink.rejectWhen(e -> e.payloadAsString().equals("bad"));
        source.publish("a", "bad");
        source.publish("a", "good");
        sink.await(1, Duration.ofSeconds(10));
        await().untilAsserted(() ->
                assertThat(counter("pgbridge.events.dead.lettered", "route", A)).isEqualTo(1));
        assertThat(counter("pgbridge.events.failed", "route", A)).isEqualTo(1);
        bridge.close();

        SimpleMeterRegistry halting = new SimpleMeterRegistry();
        ScriptedSource source2 = new ScriptedSource();
        bridge = PgBridge.builder()
                .postgres("postgresql://localhost/unused")
                .routes("a->queue:a")
                .source(source2)
                .sink(sink)
                .meterRegistry(halting)
                .retryBackoff(Duration.ofMillis(5), Duration.ofMillis(10))
                .shutdownTimeout(Duration.ofMillis(100)) // the halted event never settles
                .build();
        bridge.start();
        source2.publish("a", "bad");
        await().untilAsserted(() -> assertThat(
                        halting.get("pgbridge.events.retried").functionCounter().count())
                .as("the halted route retried the refused event several times")
                .isGreaterThan(3));
        assertThat(halting.get("pgbridge.events.failed").functionCounter().count())
                .as("one event refused for good, however often it is retried")
                .isEqualTo(1);
        assertThat(halting.get("pgbridge.route.state")
                        .tag("state", "halted")
                        .gauge()
                        .value())
                .isEqualTo(1);
        assertThat(halting.get("pgbridge.events.dead.lettered")
                        .functionCounter()
                        .count())
                .isZero();
    }

    @Test
    void metersLiveFromStartToClose() throws Exception {
        bridge = builder().build();
        assertThat(registry.getMeters()).as("nothing before start").isEmpty();
        bridge.start();
        assertThat(registry.find("pgbridge.events.delivered").meters()).hasSize(2);
        bridge.close();
        assertThat(registry.getMeters()).as("all removed at close").isEmpty();
    }

    @Test
    void twoBridgesInOneRegistryEachCountTheirOwnEventsUnderTheirName() throws Exception {
        bridge = builder().name("orders").build();
        InMemorySink sink2 = new InMemorySink();
        ScriptedSource source2 = new ScriptedSource();
        PgBridge second =
                source2.bridgeTo(sink2).meterRegistry(registry).name("billing").build();
        try {
            bridge.start();
            second.start();
            assertThat(second.name()).isEqualTo("billing");
            for (int i = 0; i < 7; i++) {
                source.publish("a", "orders " + i);
            }
            for (int i = 0; i < 3; i++) {
                source2.publish("a", "billing " + i);
            }
            sink.await(7, Duration.ofSeconds(10));
            sink2.await(3, Duration.ofSeconds(10));
            await().untilAsserted(() -> {
                assertThat(counter("pgbridge.events.delivered", "bridge", "orders", "route", A))
                        .isEqualTo(7);
                assertThat(counter("pgbridge.events.delivered", "bridge", "billing", "route", A))
                        .isEqualTo(3);
            });
            assertThat(counter("pgbridge.events.received", "bridge", "orders")).isEqualTo(7);
            assertThat(counter("pgbridge.events.received", "bridge", "billing")).isEqualTo(3);
            assertThat(registry.getMeters())
                    .as("every meter names its bridge")
                    .allSatisfy(m -> assertThat(m.getId().getTag("bridge")).isIn("orders", "billing"));
            assertThat(registry.find("pgbridge.buffer.events").gauges()).hasSize(2);

            second.close();
            assertThat(registry.getMeters())
                    .as("closing one bridge removes its meters only")
                    .isNotEmpty()
                    .allSatisfy(m -> assertThat(m.getId().getTag("bridge")).isEqualTo("orders"));
        } finally {
            second.close();
        }
    }

    @Test
    void aSecondRunningBridgeOfTheSameNameInTheRegistryFailsToStartSayingSo() throws Exception {
        bridge = builder().build();
        bridge.start();
        assertThat(bridge.name()).as("the default name").isEqualTo("pgbridge");
        assertThat(registry.get("pgbridge.buffer.events").gauge().getId().getTag("bridge"))
                .isEqualTo("pgbridge");
        PgBridge twin = new ScriptedSource()
                .bridgeTo(new InMemorySink())
                .meterRegistry(registry)
                .build();
        assertThatThrownBy(twin::start)
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("another running bridge named 'pgbridge'")
                .hasMessageContaining("PGBRIDGE_BRIDGE_NAME");
        assertThat(twin.state()).isEqualTo(PgBridge.State.CLOSED);
        assertThat(registry.find("pgbridge.buffer.events").gauges())
                .as("the running bridge keeps its meters")
                .hasSize(1);
    }

    @Test
    void aBlankNameIsAConfigurationError() {
        assertThatThrownBy(() -> builder().name(" ").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_BRIDGE_NAME");
    }

    private double counter(String name, String... tags) {
        FunctionCounter c = registry.get(name).tags(tags).functionCounter();
        return c.count();
    }

    private double gauge(String name, String... tags) {
        Gauge g = registry.get(name).tags(tags).gauge();
        return g.value();
    }
}
