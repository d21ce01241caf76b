package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Settings;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WalConfigTest {

    @Test
    void pgoutputDefaults() {
        WalConfig c = WalConfig.from(Settings.empty(), Set.of("public.users", "events"), "wal2json");
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
    void wal2jsonParamsAsInTheSeed() {
        WalConfig c = WalConfig.from(
                Settings.of(Map.of(
                        "wal.output-plugin", "wal2json",
                        "replication.wal2json-params", "\"format-version\" '2' , \"include-types\" '1'")),
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
                        Settings.of(Map.of(
                                "replication.slot", "my-slot",
                                "wal.output-plugin", "wal2json",
                                "replication.wal2json-params", "\"format-version\" '1', junk")),
                        Set.of("wal2json"),
                        "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_REPLICATION_SLOT='my-slot'")
                .hasMessageContaining("\"name\" 'value' pairs")
                .hasMessageContaining("must hold \"format-version\" '2'");
    }

    @Test
    void snapshotModes() {
        assertThat(WalConfig.from(Settings.empty(), Set.of("public.users"), "wal2json").snapshot)
                .as("default")
                .isEqualTo(WalConfig.SnapshotMode.NEVER);
        assertThat(WalConfig.from(
                                Settings.of(Map.of("wal.snapshot", "initial-only")), Set.of("public.users"), "wal2json")
                        .snapshot)
                .isEqualTo(WalConfig.SnapshotMode.INITIAL_ONLY);
        assertThatThrownBy(() -> WalConfig.from(
                        Settings.of(Map.of("wal.snapshot", "always")), Set.of("public.users"), "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_WAL_SNAPSHOT='always'")
                .hasMessageContaining("must be never, initial or initial-only");
    }

    @Test
    void snapshotNeedsPgoutputAPersistentSlotAndATable() {
        assertThatThrownBy(() -> WalConfig.from(
                        Settings.of(Map.of("wal.snapshot", "initial", "wal.output-plugin", "wal2json")),
                        Set.of("public.users"),
                        "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs wal.output-plugin=pgoutput");
        assertThatThrownBy(() -> WalConfig.from(
                        Settings.of(Map.of("wal.snapshot", "initial", "wal.temporary-slot", "true")),
                        Set.of("public.users"),
                        "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs a persistent slot");
        assertThatThrownBy(() ->
                        WalConfig.from(Settings.of(Map.of("wal.snapshot", "initial")), Set.of("wal2json"), "wal2json"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs at least one routed schema.table channel");
    }
}
