package io.pgbridge.kafka;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/**
 * {@code kafka}: selected by {@code PGBRIDGE_UPSTREAM=kafka} or an upstream URI with scheme {@code kafka} or
 * {@code kafkas} (TLS). Creates a {@link KafkaSink}; the settings are listed in {@link #settings()}.
 */
public final class KafkaSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "kafka";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("kafka", "kafkas");
    }

    @Override
    public List<Setting> settings() {
        return KafkaSinkConfig.SETTINGS;
    }

    /** @throws io.pgbridge.ConfigurationException listing every invalid setting or URI part */
    @Override
    public Sink create(SinkConfig config) {
        return new KafkaSink(KafkaSinkConfig.from(config));
    }
}
