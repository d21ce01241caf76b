package io.pgbridge.internal.notify;

import io.pgbridge.NotifyOptions;
import io.pgbridge.internal.config.Identifiers;
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
 * {@code notify}: LISTENs on every routed channel that is a plain identifier, except {@code wal2json}, which the seed
 * reserves for WAL streaming.
 */
public final class NotifySourceProvider implements SourceProvider {
    /** The seed's channel that means "stream the WAL", never LISTENed to. */
    static final String WAL_CHANNEL = "wal2json";

    @Override
    public String name() {
        return "notify";
    }

    @Override
    public List<Setting> settings() {
        return NotifySettings.ALL;
    }

    @Override
    public Set<String> channelsServed(Set<String> routedChannels) {
        Set<String> served = new LinkedHashSet<>();
        for (String channel : routedChannels) {
            if (!WAL_CHANNEL.equals(channel) && Identifiers.problem("channel", channel) == null) {
                served.add(channel);
            }
        }
        return served;
    }

    @Override
    public EventSource create(SourceConfig config) {
        return create(
                config, OptionsBinder.notify(config.settings(), new Problems()).build());
    }

    /** The source with options the bridge already bound (and checked) from settings and code. */
    public EventSource create(SourceConfig config, NotifyOptions options) {
        return new NotifySource(config.postgres(), channelsServed(config.channels()), options);
    }
}
