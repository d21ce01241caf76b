package io.pgbridge.amqp;

import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import java.util.Map;
import java.util.concurrent.Executors;

/** Sink configurations for unit tests, as the bridge would hand them to the provider. */
final class TestSinkConfigs {
    private TestSinkConfigs() {}

    static SinkConfig of(String uri, Map<String, String> settings) {
        return SinkConfig.of(uri, Settings.of(settings), Executors.defaultThreadFactory());
    }

    static AmqpSinkConfig parse(String uri) {
        return AmqpSinkConfig.from(of(uri, Map.of()));
    }
}
