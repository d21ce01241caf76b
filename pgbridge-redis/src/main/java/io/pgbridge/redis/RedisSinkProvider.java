package io.pgbridge.redis;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/**
 * {@code redis}: selected by {@code PGBRIDGE_UPSTREAM=redis} or an upstream URI with scheme {@code redis} or
 * {@code rediss} (TLS). Creates a {@link RedisSink}; the settings are listed in {@link #settings()}.
 */
public final class RedisSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "redis";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("redis", "rediss");
    }

    @Override
    public List<Setting> settings() {
        return RedisConfig.SETTINGS;
    }

    /** @throws io.pgbridge.ConfigurationException listing every invalid setting or URI part */
    @Override
    public Sink create(SinkConfig config) {
        return new RedisSink(RedisConfig.from(config), config.threadFactory());
    }
}
