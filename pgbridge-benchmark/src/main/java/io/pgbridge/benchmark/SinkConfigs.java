package io.pgbridge.benchmark;

import io.pgbridge.spi.Redaction;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/** What the bridge hands a sink provider, for benchmarks that create sinks themselves. */
final class SinkConfigs {
    private SinkConfigs() {}

    static SinkConfig of(String uri, Map<String, String> settings) {
        Settings values = Settings.of(settings);
        ThreadFactory threads = Executors.defaultThreadFactory();
        return new SinkConfig() {
            @Override
            public String uri() {
                return uri;
            }

            @Override
            public String redactedUri() {
                return Redaction.redact(uri);
            }

            @Override
            public Settings settings() {
                return values;
            }

            @Override
            public ThreadFactory threadFactory() {
                return threads;
            }
        };
    }
}
