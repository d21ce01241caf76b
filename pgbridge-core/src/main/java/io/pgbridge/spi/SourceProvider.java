package io.pgbridge.spi;

import java.util.List;
import java.util.Set;

/**
 * Creates {@link EventSource}s of one kind. Registered in {@code META-INF/services/io.pgbridge.spi.SourceProvider}
 * and selected by {@link #name()}. Must have a public no-argument constructor.
 */
public interface SourceProvider {

    /** The name that selects this provider, such as {@code notify} or {@code wal}. Lower case. */
    String name();

    /** The settings this source reads; may be empty. */
    List<Setting> settings();

    /**
     * The routed channels this source would produce; {@code build()} reports a routed channel that no selected
     * source produces.
     */
    Set<String> channelsServed(Set<String> routedChannels);

    /**
     * A channel that, when routed, takes every event of this source, or {@code null} (the default). The WAL source
     * returns {@code wal2json}, which in the seed means "every WAL change".
     */
    default String catchAllChannel() {
        return null;
    }

    /**
     * Creates a source; does not connect yet.
     *
     * @throws io.pgbridge.ConfigurationException listing every invalid setting
     */
    EventSource create(SourceConfig config);
}
