package io.pgbridge.internal.outbox;

import io.pgbridge.ConfigurationException;
import io.pgbridge.OutboxOptions;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.config.OptionsBinder;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SourceConfig;
import io.pgbridge.spi.SourceProvider;
import java.util.ArrayList;
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

    /** The outbox's settings, and those of the WAL source that streaming mode takes (its timing). */
    @Override
    public List<Setting> settings() {
        List<Setting> all = new ArrayList<>(OutboxSettings.ALL);
        all.addAll(StreamingOutboxSource.WAL_SETTINGS);
        return all;
    }

    @Override
    public Set<String> channelsServed(Set<String> routedChannels) {
        Set<String> served = new LinkedHashSet<>(routedChannels);
        served.remove(WAL_CHANNEL);
        return served;
    }

    @Override
    public EventSource create(SourceConfig config) {
        Problems problems = new Problems();
        OutboxOptions options =
                OptionsBinder.outbox(config.settings(), problems).build();
        WalOptions wal = OptionsBinder.wal(config.settings(), problems).build();
        problems.throwIfAny();
        return create(config, options, wal);
    }

    /**
     * The source with options the bridge already bound from settings and code; streaming mode takes the timing of
     * {@code wal} ({@link StreamingOutboxSource#WAL_SETTINGS}).
     *
     * @throws ConfigurationException when the schema is not a plain identifier
     */
    public EventSource create(SourceConfig config, OutboxOptions options, WalOptions wal) {
        String problem = Identifiers.problem("outbox schema", options.schema());
        if (problem != null) {
            throw new ConfigurationException(Settings.problem(OutboxSettings.SCHEMA, options.schema(), problem));
        }
        OutboxTables tables = new OutboxTables(options.schema());
        return switch (options.mode()) {
            case STREAMING -> new StreamingOutboxSource(config.postgres(), tables, options, wal);
            case POLLING -> new PollingOutboxSource(config.postgres(), tables, options);
        };
    }
}
