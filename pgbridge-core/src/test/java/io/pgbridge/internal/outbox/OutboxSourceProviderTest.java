package io.pgbridge.internal.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.WalOptions;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SourceConfig;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OutboxSourceProviderTest {
    private final OutboxSourceProvider provider = new OutboxSourceProvider();

    @Test
    void servesEveryRoutedChannelButTheSeedsWalChannel() {
        assertThat(provider.channelsServed(Set.of("orders", "events", "public.users", "wal2json")))
                .as("channels served")
                .containsExactlyInAnyOrder("orders", "events", "public.users");
    }

    @Test
    void createsTheSourceOfEachModeWithoutConnecting() {
        assertThat(provider.create(config(Map.of()))).as("default mode").isInstanceOf(PollingOutboxSource.class);
        assertThat(provider.create(config(Map.of("outbox.mode", "streaming"))))
                .as("streaming mode")
                .isInstanceOf(StreamingOutboxSource.class);
    }

    @Test
    void streamingModeTakesTheTimingOfTheWalSettings() {
        StreamingOutboxSource source = (StreamingOutboxSource) provider.create(config(Map.of(
                "outbox.mode", "streaming",
                "outbox.reconnect-max-backoff-ms", "3000",
                "wal.status-interval-ms", "1500",
                "wal.read-timeout-ms", "2500",
                "wal.heartbeat-interval-ms", "0",
                "wal.lag-warning-bytes", "4096")));

        WalOptions stream = source.streamOptions();
        assertThat(stream.statusInterval()).isEqualTo(Duration.ofMillis(1500));
        assertThat(stream.readTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(stream.heartbeatInterval()).isEqualTo(Duration.ZERO);
        assertThat(stream.lagWarningBytes()).isEqualTo(4096);
        assertThat(stream.reconnectMaxBackoff()).as("the outbox's own").isEqualTo(Duration.ofMillis(3000));
        assertThatThrownBy(
                        () -> provider.create(config(Map.of("outbox.mode", "streaming", "wal.read-timeout-ms", "999"))))
                .as("a WAL setting out of range")
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_WAL_READ_TIMEOUT_MS='999'");
    }

    @Test
    void rejectsAnUnknownModeAndASchemaNameThatIsNotAPlainIdentifier() {
        assertThatThrownBy(() -> provider.create(config(Map.of("outbox.mode", "push"))))
                .as("unknown mode")
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_OUTBOX_MODE='push'")
                .hasMessageContaining("must be streaming or polling");
        assertThatThrownBy(() -> provider.create(config(Map.of("outbox.schema", "Pg;drop"))))
                .as("bad schema name")
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_OUTBOX_SCHEMA='Pg;drop'");
        assertThatThrownBy(() -> provider.create(config(Map.of("outbox.mode", "streaming", "outbox.slot", "Bad-Slot"))))
                .as("bad slot name")
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("Bad-Slot");
    }

    private static SourceConfig config(Map<String, String> values) {
        return new SourceConfig() {
            @Override
            public PostgresConnector postgres() {
                return new PostgresConnector() {
                    @Override
                    public Connection connect() {
                        throw new AssertionError("create() must not connect");
                    }

                    @Override
                    public Connection connect(Map<String, String> properties) {
                        throw new AssertionError("create() must not connect");
                    }

                    @Override
                    public Connection connectForReplication() {
                        throw new AssertionError("create() must not connect");
                    }

                    @Override
                    public String describe() {
                        return "test";
                    }
                };
            }

            @Override
            public Settings settings() {
                return Settings.of(values);
            }

            @Override
            public Set<String> channels() {
                return Set.of("events");
            }
        };
    }
}
