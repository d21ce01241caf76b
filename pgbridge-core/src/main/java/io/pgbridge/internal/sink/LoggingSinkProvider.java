package io.pgbridge.internal.sink;

import io.pgbridge.LoggingSink;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/** {@code logging} (URI {@code log:}): JSON lines to standard output. The default when no upstream is configured. */
public final class LoggingSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "logging";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("log");
    }

    @Override
    public List<Setting> settings() {
        return List.of();
    }

    @Override
    public Sink create(SinkConfig config) {
        return new LoggingSink();
    }
}
