package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.internal.config.OptionsBinder;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TypedOptionsTest {

    @Test
    void defaultsAreThePublicConstants() {
        PipelineOptions p = PipelineOptions.defaults();
        assertThat(p.deliveryThreads()).isEqualTo(PipelineOptions.DEFAULT_DELIVERY_THREADS);
        assertThat(p.maxBatchSize()).isEqualTo(PipelineOptions.DEFAULT_MAX_BATCH_SIZE);
        assertThat(p.isMaxBatchSizeSet()).isFalse();
        assertThat(p.maxBatchesInFlight()).isEqualTo(PipelineOptions.DEFAULT_MAX_BATCHES_IN_FLIGHT);
        assertThat(p.isMaxBatchesInFlightSet()).isFalse();
        assertThat(p.shutdownTimeout()).isEqualTo(PipelineOptions.DEFAULT_SHUTDOWN_TIMEOUT);
        assertThat(WalOptions.builder().build().slot()).isEqualTo(WalOptions.DEFAULT_SLOT);
        assertThat(WalOptions.builder().build().readTimeout()).isEqualTo(WalOptions.DEFAULT_READ_TIMEOUT);
        assertThat(OutboxOptions.builder().build().mode()).isEqualTo(OutboxOptions.Mode.POLLING);
        assertThat(NotifyOptions.builder().build().pollInterval()).isEqualTo(NotifyOptions.DEFAULT_POLL_INTERVAL);
    }

    @Test
    void stringsAreBoundToTypesAndEveryBadOneIsReported() {
        Problems problems = new Problems();
        Settings settings = Settings.of(Map.of(
                "outbox.mode", "streaming",
                "outbox.lease-ms", "2000",
                "outbox.batch-size", "lots",
                "outbox.retention-days", "0"));
        OutboxOptions o = OptionsBinder.outbox(settings, problems).build();

        assertThat(o.mode()).isEqualTo(OutboxOptions.Mode.STREAMING);
        assertThat(o.lease()).isEqualTo(Duration.ofSeconds(2));
        assertThat(o.batchSize()).as("an invalid value leaves the default").isEqualTo(500);
        assertThat(problems.list())
                .containsExactly(
                        "PGBRIDGE_OUTBOX_BATCH_SIZE='lots': must be a whole number",
                        "PGBRIDGE_OUTBOX_RETENTION_DAYS='0': must be between 1 and 3650");
    }

    @Test
    void anUnknownOutboxModeNamesBothModes() {
        Problems problems = new Problems();
        OptionsBinder.outbox(Settings.of(Map.of("outbox.mode", "push")), problems);
        assertThat(problems.list()).containsExactly("PGBRIDGE_OUTBOX_MODE='push': must be streaming or polling");
    }

    @Test
    void maxBatchesInFlightIsBoundFromItsKeyAndItsEnvironmentName() {
        PgBridgeConfig env = PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_DELIVERY_MAX_BATCHES_IN_FLIGHT", "16"));
        assertThat(env.get("delivery.max-batches-in-flight")).isEqualTo("16");

        Problems problems = new Problems();
        PipelineOptions bound = OptionsBinder.pipeline(
                        Settings.of(Map.of("delivery.max-batches-in-flight", "16")), problems)
                .build();
        OptionsBinder.pipeline(Settings.of(Map.of("delivery.max-batches-in-flight", "0")), problems);
        OptionsBinder.pipeline(Settings.of(Map.of("delivery.max-batches-in-flight", "65")), problems);

        assertThat(bound.maxBatchesInFlight()).isEqualTo(16);
        assertThat(problems.list())
                .containsExactly(
                        "PGBRIDGE_DELIVERY_MAX_BATCHES_IN_FLIGHT='0': must be between 1 and 64",
                        "PGBRIDGE_DELIVERY_MAX_BATCHES_IN_FLIGHT='65': must be between 1 and 64");
    }

    @Test
    void typedSettersCheckTheSameRangesAsTheStrings() {
        assertThatThrownBy(() -> PipelineOptions.builder().deliveryThreads(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("deliveryThreads (delivery.threads) must be between 1 and 256, was 0");
        assertThatThrownBy(() -> PipelineOptions.builder().maxBatchesInFlight(65))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBatchesInFlight (delivery.max-batches-in-flight) must be between 1 and 64, was 65");
        assertThatThrownBy(() -> WalOptions.builder().statusInterval(Duration.ofMillis(5)))
                .hasMessageContaining("statusInterval (wal.status-interval-ms) must be between 100 ms");
        assertThatThrownBy(() -> WalOptions.builder().readTimeout(Duration.ofMillis(500)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("readTimeout (wal.read-timeout-ms) must be between 1000 ms and 3600000 ms, was 500 ms");
    }

    @Test
    void aValueSetInCodeWinsOverTheStringAndBadOnesAreReportedWithTheRest() {
        PgBridge.Builder builder = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("public.orders->queue:orders")
                .sink(new InMemorySink())
                .setting("wal.status-interval-ms", "nope")
                .wal(w -> w.slot("Bad-Slot"))
                .pipeline(p -> p.deliveryThreads(1000));

        assertThatThrownBy(builder::build).isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(
                        e.problems())
                .anySatisfy(p -> assertThat(p).startsWith("PGBRIDGE_WAL_STATUS_INTERVAL_MS='nope'"))
                .anySatisfy(p -> assertThat(p).contains("'Bad-Slot'"))
                .anySatisfy(p -> assertThat(p)
                        .isEqualTo("pipeline options: deliveryThreads (delivery.threads) must be between 1 and 256,"
                                + " was 1000")));
    }

    @Test
    void strictOrderWithASetBatchSizeIsAContradictionEitherWay() {
        PgBridge.Builder typed = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("events->queue:a")
                .sink(new InMemorySink())
                .pipeline(p -> p.strictOrder(true).maxBatchSize(5));
        assertThatThrownBy(typed::build).hasMessageContaining("PGBRIDGE_DELIVERY_MAX_BATCH='5': contradicts");

        PgBridge.Builder strings = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("events->queue:a")
                .sink(new InMemorySink())
                .setting("delivery.strict-order", "true")
                .setting("delivery.max-batch", "5");
        assertThatThrownBy(strings::build).hasMessageContaining("PGBRIDGE_DELIVERY_MAX_BATCH='5': contradicts");
    }

    @Test
    void severalBatchesInFlightContradictOneEventInFlight() {
        PgBridge.Builder strict = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("events->queue:a")
                .sink(new InMemorySink())
                .strictOrder(true)
                .maxBatchesInFlight(8);
        assertThatThrownBy(strict::build)
                .hasMessageContaining("PGBRIDGE_DELIVERY_MAX_BATCHES_IN_FLIGHT='8': contradicts"
                        + " PGBRIDGE_DELIVERY_STRICT_ORDER=true");

        PgBridge.Builder batchOfOne = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("events->queue:a")
                .sink(new InMemorySink())
                .setting("delivery.max-batch", "1")
                .setting("delivery.max-batches-in-flight", "8");
        assertThatThrownBy(batchOfOne::build)
                .hasMessageContaining(
                        "PGBRIDGE_DELIVERY_MAX_BATCHES_IN_FLIGHT='8': contradicts PGBRIDGE_DELIVERY_MAX_BATCH=1");

        try (PgBridge agreeing = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .routes("events->queue:a")
                .sink(new InMemorySink())
                .strictOrder(true)
                .maxBatchesInFlight(1)
                .build()) {
            assertThat(agreeing)
                    .as("one batch in flight agrees with strict order")
                    .isNotNull();
        }
    }
}
