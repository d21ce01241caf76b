package io.pgbridge.internal.outbox;

import io.pgbridge.ConfigurationException;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SourceConfig;
import io.pgbridge.spi.SourceProvider;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code outbox}: delivers the events written to the {@code pgbridge.events} table (by {@code pgbridge.send} or by
 * triggers generated from {@code pgbridge.subscriptions}), at least once, in streaming mode (logical replication,
 * {@link StreamingOutboxSource}) or polling mode ({@link PollingOutboxSource}). Any routed channel can occur in the outbox,
 * so it serves every routed channel except the seed's {@code wal2json}.
 */
public final class OutboxSourceProvider implements SourceProvider {
    private static final String WAL_CHANNEL = "wal2json";

    @Override
    public String name() {
        return "outbox";
    }

    @Override
    public List<Setting> settings() {
        return OutboxSettings.ALL;
    }

    @Override
    public Set<String> channelsServed(Set<String> routedChannels) {
        Set<String> served = new LinkedHashSet<>(routedChannels);
        served.remove(WAL_CHANNEL);
        return served;
    }

    @Override
    public EventSource create(SourceConfig config) {
        String schema = config.settings().string(OutboxSettings.SCHEMA);
        String problem = Identifiers.problem("outbox schema", schema);
        if (problem != null) {
            throw new ConfigurationException(Settings.problem(OutboxSettings.SCHEMA, schema, problem));
        }
        String mode = config.settings().string(OutboxSettings.MODE).trim();
        OutboxTables tables = new OutboxTables(schema);
        if (mode.equals(OutboxSettings.STREAMING)) {
            return new StreamingOutboxSource(config.postgres(), tables, config.settings());
        }
        if (mode.equals(OutboxSettings.POLLING)) {
            return new PollingOutboxSource(config.postgres(), tables, config.settings());
        }
        throw new ConfigurationException(Settings.problem(
                OutboxSettings.MODE, mode, "must be " + OutboxSettings.STREAMING + " or " + OutboxSettings.POLLING));
    }
}
