package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.OptionsBinder;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Settings;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WalConfigTest {

    @Test
    void pgoutputDefaults() {
        WalConfig c = WalConfig.from(WalOptions.builder().build(), Set.of("public.users", "events"), "wal2json");
        assertThat(c.slot).as("default slot").isEqualTo("pgbridge");
        assertThat(c.publication).as("publication defaults to the slot name").isEqualTo("pgbridge");
        assertThat(c.tables).as("schema.table channels").containsExactly("public.users");
        assertThat(c.allTables).isFalse();
        assertThat(c.pluginOptions)
                .containsEntry("proto_version", "1")
                .containsEntry("publication_names", "pgbridge")
                .containsEntry("messages", "true");
    }

    @Test
    void backfillRequestsTableIsSchemaTableOrNone() {
        Set<String> routes = Set.of("public.users");
        assertThat(WalConfig.from(WalOptions.builder().build(), routes, "wal2json").backfillRequests)
                .as("default")
                .isEqualTo("pgbridge.backfill_requests");
        assertThat(WalConfig.from(WalOptions.builder().backfillRequests("none").build(), routes, "wal2json")
                        .backfillRequests)
                .as("off")
                .isNull();
        assertThatThrownBy(() -> WalConfig.from(
                        WalOptions.builder().backfillRequests("requests").build(), routes, "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_WAL_BACKFILL_REQUESTS='requests'")
                .hasMessageContaining("must be schema.table");
        assertThatThrownBy(() -> WalConfig.from(
                        WalOptions.builder().backfillRequests("Ops.requests").build(), routes, "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("schema has upper-case letters");
    }

    @Test
    void readTimeoutComesFromItsKeyOrVariableAndABadValueNamesIt() {
        Set<String> routes = Set.of("public.users");
        assertThat(WalConfig.from(WalOptions.builder().build(), routes, "wal2json").readTimeout)
                .as("default: wal_sender_timeout's default")
                .isEqualTo(Duration.ofSeconds(60));
        assertThat(PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_WAL_READ_TIMEOUT_MS", "2000"))
                        .get("wal.read-timeout-ms"))
                .isEqualTo("2000");

        Problems problems = new Problems();
        WalOptions bound = OptionsBinder.wal(Settings.of(Map.of("wal.read-timeout-ms", "2000")), problems)
                .build();
        assertThat(WalConfig.from(bound, routes, "wal2json").readTimeout).isEqualTo(Duration.ofSeconds(2));
        OptionsBinder.wal(Settings.of(Map.of("wal.read-timeout-ms", "999")), problems);
        OptionsBinder.wal(Settings.of(Map.of("wal.read-timeout-ms", "60s")), problems);
        assertThat(problems.list())
                .containsExactly(
                        "PGBRIDGE_WAL_READ_TIMEOUT_MS='999': must be between 1000 and 3600000",
                        "PGBRIDGE_WAL_READ_TIMEOUT_MS='60s': must be a whole number of milliseconds");
    }

    @Test
    void wal2jsonParamsAsInTheSeed() {
        WalConfig c = WalConfig.from(
                WalOptions.builder()
                        .outputPlugin("wal2json")
                        .wal2jsonParams("\"format-version\" '2' , \"include-types\" '1'")
                        .build(),
                Set.of("public.users"),
                "wal2json");
        assertThat(c.pluginOptions)
                .containsEntry("format-version", "2")
                .containsEntry("include-types", "1")
                .containsEntry("include-lsn", "1")
                .containsEntry("add-tables", "public.users");
        assertThat(c.publication).as("wal2json needs no publication").isNull();
    }

    @Test
    void badValuesAreReportedTogether() {
        assertThatThrownBy(() -> WalConfig.from(
                        WalOptions.builder()
                                .slot("my-slot")
                                .outputPlugin("wal2json")
                                .wal2jsonParams("\"format-version\" '1', junk")
                                .build(),
                        Set.of("wal2json"),
                        "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_WAL_SLOT='my-slot'")
                .hasMessageContaining("\"name\" 'value' pairs")
                .hasMessageContaining("must hold \"format-version\" '2'");
    }

    @Test
    void snapshotModes() {
        assertThat(WalConfig.from(WalOptions.builder().build(), Set.of("public.users"), "wal2json").snapshot)
                .as("default")
                .isEqualTo(WalOptions.Snapshot.NEVER);
        Problems problems = new Problems();
        assertThat(OptionsBinder.wal(Settings.of(Map.of("wal.snapshot", "initial-only")), problems)
                        .build()
                        .snapshot())
                .isEqualTo(WalOptions.Snapshot.INITIAL_ONLY);
        assertThat(problems.list()).isEmpty();
        OptionsBinder.wal(Settings.of(Map.of("wal.snapshot", "always")), problems);
        assertThat(problems.list())
                .singleElement()
                .asString()
                .contains("PGBRIDGE_WAL_SNAPSHOT='always'")
                .contains("must be never, initial or initial-only");
    }

    @Test
    void snapshotNeedsPgoutputAPersistentSlotAndATable() {
        WalOptions.Builder initial = WalOptions.builder().snapshot(WalOptions.Snapshot.INITIAL);
        assertThatThrownBy(() ->
                        WalConfig.from(initial.outputPlugin("wal2json").build(), Set.of("public.users"), "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs wal.output-plugin=pgoutput");
        assertThatThrownBy(() -> WalConfig.from(
                        initial.outputPlugin("pgoutput").temporarySlot(true).build(),
                        Set.of("public.users"),
                        "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs a persistent slot");
        assertThatThrownBy(() -> WalConfig.from(initial.temporarySlot(false).build(), Set.of("wal2json"), "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs at least one routed schema.table channel");
    }
}
