package io.pgbridge.internal.sink;

import io.pgbridge.InMemorySink;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/** {@code memory} (URI {@code memory:}): keeps events in memory; for tests and benchmarks. */
public final class InMemorySinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "memory";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("memory");
    }

    @Override
    public List<Setting> settings() {
        return List.of();
    }

    @Override
    public Sink create(SinkConfig config) {
        return new InMemorySink();
    }
}
