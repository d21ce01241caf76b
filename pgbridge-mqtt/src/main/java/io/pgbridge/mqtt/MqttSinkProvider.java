package io.pgbridge.mqtt;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/**
 * {@code mqtt}: selected by {@code PGBRIDGE_UPSTREAM=mqtt} or an upstream URI with scheme {@code mqtt}, {@code tcp}
 * (the seed's spelling) or {@code mqtts} (TLS). Creates an {@link MqttSink}; the settings are listed in
 * {@link #settings()}.
 */
public final class MqttSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "mqtt";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("mqtt", "mqtts", "tcp");
    }

    @Override
    public List<Setting> settings() {
        return MqttConfig.SETTINGS;
    }

    /** @throws io.pgbridge.ConfigurationException listing every invalid setting or URI part */
    @Override
    public Sink create(SinkConfig config) {
        return new MqttSink(MqttConfig.from(config), config.threadFactory());
    }
}
