package io.pgbridge.websocket;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/**
 * {@code websocket}: selected by {@code PGBRIDGE_UPSTREAM_URI=ws://127.0.0.1:7700}; reads the {@code websocket.*}
 * settings of {@link WebSocketConfig}. Claims {@code wss} only to refuse it with a clear message (no TLS here).
 */
public final class WebSocketSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "websocket";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("ws", "wss");
    }

    @Override
    public List<Setting> settings() {
        return WebSocketConfig.SETTINGS;
    }

    @Override
    public Sink create(SinkConfig config) {
        return new WebSocketSink(WebSocketConfig.from(config), config.threadFactory());
    }
}
