package io.pgbridge.webhook;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/**
 * {@code webhook}: selected by {@code PGBRIDGE_UPSTREAM_URI=https://...} or {@code http://...}; reads the
 * {@code webhook.*} settings of {@link WebhookConfig}.
 */
public final class WebhookSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "webhook";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("http", "https");
    }

    @Override
    public List<Setting> settings() {
        return WebhookConfig.SETTINGS;
    }

    @Override
    public Sink create(SinkConfig config) {
        return new WebhookSink(WebhookConfig.from(config), config.threadFactory());
    }
}
