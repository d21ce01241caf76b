package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PgBridgeBuilderTest {

    @Test
    void buildsFromTheSeedsSettings() {
        PgBridge bridge = PgBridge.builder()
                .postgres("postgresql://app:secret@localhost:5432/app")
                .routes("events->exchange:amq.topic, jobs->queue:jobs")
                .sink(new InMemorySink())
                .build();

        assertThat(bridge.routes())
                .containsExactly(
                        Route.of("events", Target.exchange("amq.topic")), Route.of("jobs", Target.queue("jobs")));
        assertThat(bridge.state()).isEqualTo(PgBridge.State.NEW);
        assertThat(bridge.toString()).doesNotContain("secret");
    }

    @Test
    void reportsEveryProblemAtOnce() {
        PgBridge.Builder builder = PgBridge.builder()
                .routes("Events->queue:a, bad entry")
                .setting("buffer.max-events", "many")
                .setting("retry.max-backoff-ms", "-5");

        assertThatThrownBy(builder::build).isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(
                        e.problems())
                .as("missing URI, malformed route, bad number, out-of-range duration")
                .anySatisfy(p -> assertThat(p).startsWith("PGBRIDGE_POSTGRESQL_URI is missing"))
                .anySatisfy(p -> assertThat(p).contains("'bad entry'").contains("missing '->'"))
                .anySatisfy(p -> assertThat(p).isEqualTo("PGBRIDGE_BUFFER_MAX_EVENTS='many': must be a whole number"))
                .anySatisfy(p -> assertThat(p).startsWith("PGBRIDGE_RETRY_MAX_BACKOFF_MS='-5': must be between")));
    }

    @Test
    void aWalSettingTheOutboxStreamTakesTooIsReportedOnce() {
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://localhost/app")
                        .routes("public.users->queue:a, events->queue:b")
                        .source("wal")
                        .source("outbox")
                        .setting("outbox.mode", "streaming")
                        .setting("wal.read-timeout-ms", "999")
                        .sink(new InMemorySink())
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("read by the wal source and by the outbox's stream")
                        .singleElement()
                        .satisfies(p -> assertThat(p).startsWith("PGBRIDGE_WAL_READ_TIMEOUT_MS='999'")));
    }

    @Test
    void rejectsChannelsPostgresWouldFoldOrTruncate() {
        String longName = "c".repeat(64);
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://localhost/app")
                        .routes("Events->queue:a, " + longName + "->queue:b, Public.users->queue:c")
                        .sink(new InMemorySink())
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .hasSize(3)
                        .anySatisfy(p ->
                                assertThat(p).contains("folds to lower case").contains("'events'"))
                        .anySatisfy(p -> assertThat(p).contains("longer than 63 bytes"))
                        .anySatisfy(p -> assertThat(p).contains("schema 'Public'")));
    }

    @Test
    void namesAnUnknownUpstreamSchemeAndListsWhatIsAvailable() {
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://localhost/app")
                        .upstream("kafka://user:hunter2@broker:9092")
                        .routes("events->topic:events")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("no provider for PGBRIDGE_UPSTREAM_URI='kafka://user:****@broker:9092'")
                .hasMessageContaining("logging [log]")
                .hasMessageContaining("memory [memory]")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void rejectsAnUnknownSourceListingTheAvailableOnes() {
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://localhost/app")
                        .routes("events->queue:events")
                        .source("kafka")
                        .sink(new InMemorySink())
                        .build())
                .hasMessageContaining("no provider for PGBRIDGE_SOURCES entry 'kafka'")
                .hasMessageContaining("notify");
    }

    @Test
    void checksTargetKindsAndSinkNamesAgainstTheSinks() {
        Sink exchangesOnly = new TestSink("exchanges-only") {
            @Override
            public Set<String> targetKinds() {
                return Set.of("exchange");
            }

            @Override
            public List<String> validateTarget(Target target) {
                return target.name().contains("#") ? List.of("no wildcards in '" + target.name() + "'") : List.of();
            }

            @Override
            public PublishResult publish(Target target, List<Event> events) {
                return PublishResult.confirmed(events.size());
            }
        };
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://localhost/app")
                        .routes("a->rabbit/exchange:x, b->rabbit/queue:y, c->nope/exchange:z, d->rabbit/exchange:a.#")
                        .sink("rabbit", exchangesOnly)
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .containsExactlyInAnyOrder(
                                "route 'b->rabbit/queue:y': target kind 'queue' is unknown to sink exchanges-only; it"
                                        + " knows exchange",
                                "route 'c->nope/exchange:z' names sink 'nope', but the sinks are [rabbit]",
                                "route 'd->rabbit/exchange:a.#': no wildcards in 'a.#'"));
    }

    @Test
    void rejectsADuplicateRoute() {
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://localhost/app")
                        .routes("a->queue:q, a->queue:q")
                        .sink(new InMemorySink())
                        .build())
                .hasMessageContaining("is given twice");
    }

    @Test
    void laterBuilderEditsDoNotChangeABuiltBridge() {
        PgBridge.Builder builder = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("a->queue:q")
                .sink(new InMemorySink());
        PgBridge first = builder.build();
        builder.route("b", Target.queue("r"));

        assertThat(first.routes()).containsExactly(Route.of("a", Target.queue("q")));
        assertThat(builder.build().routes()).hasSize(2);
    }

    @Test
    void closeBeforeStartIsFineAndIdempotent() {
        PgBridge bridge = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("a->queue:q")
                .sink(new InMemorySink())
                .build();
        bridge.close();
        bridge.close();

        assertThat(bridge.state()).isEqualTo(PgBridge.State.CLOSED);
        assertThatThrownBy(bridge::start).isInstanceOf(IllegalStateException.class);
        assertThat(List.of(bridge.stats().received())).containsExactly(0L);
    }
}
