package io.pgbridge.internal.wal;

import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.OptionsBinder;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.SourceConfig;
import io.pgbridge.spi.SourceProvider;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code wal}: streams row changes of the routed {@code schema.table} channels from a logical replication slot, and
 * every change when the seed's {@code wal2json} channel is routed. See {@link WalSource} for the guarantees and
 * {@link ChangeEventJson} for the events.
 */
public final class WalSourceProvider implements SourceProvider {
    /** The seed's channel that takes every WAL change. */
    public static final String CATCH_ALL_CHANNEL = "wal2json";

    @Override
    public String name() {
        return "wal";
    }

    @Override
    public List<Setting> settings() {
        return WalSettings.ALL;
    }

    @Override
    public Set<String> channelsServed(Set<String> routedChannels) {
        Set<String> served = new LinkedHashSet<>();
        for (String channel : routedChannels) {
            if (channel.equals(CATCH_ALL_CHANNEL) || channel.indexOf('.') > 0) {
                served.add(channel);
            }
        }
        return served;
    }

    @Override
    public String catchAllChannel() {
        return CATCH_ALL_CHANNEL;
    }

    @Override
    public EventSource create(SourceConfig config) {
        Problems problems = new Problems();
        WalOptions options = OptionsBinder.wal(config.settings(), problems).build();
        problems.throwIfAny();
        return create(config, options);
    }

    /**
     * The source with options the bridge already bound from settings and code.
     *
     * @throws io.pgbridge.ConfigurationException listing every invalid option (slot or publication name, plugin)
     */
    public EventSource create(SourceConfig config, WalOptions options) {
        return new WalSource(config.postgres(), WalConfig.from(options, config.channels(), CATCH_ALL_CHANNEL));
    }
}
