package io.pgbridge.nats;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/**
 * {@code nats}: selected by {@code PGBRIDGE_UPSTREAM=nats} or an upstream URI with scheme {@code nats} or
 * {@code tls} (NATS over TLS). Creates a {@link NatsSink}; the settings are listed in {@link #settings()}.
 */
public final class NatsSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "nats";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("nats", "tls");
    }

    @Override
    public List<Setting> settings() {
        return NatsSinkConfig.SETTINGS;
    }

    /** @throws io.pgbridge.ConfigurationException listing every invalid setting or URI part */
    @Override
    public Sink create(SinkConfig config) {
        return new NatsSink(NatsSinkConfig.from(config), config.threadFactory());
    }
}
