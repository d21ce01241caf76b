package io.pgbridge;

import io.pgbridge.spi.Sink;
import java.util.Objects;
import java.util.Set;

/**
 * A sink for tests that only script {@link #publish}: a fixed name, any target kind, and nothing to connect or
 * release. A test overrides {@link #publish} (and, where it needs them, {@link #publishAsync}, {@link #targetKinds},
 * {@link #validateTarget} or {@link #close}); thread safety is up to the subclass.
 */
public abstract class TestSink implements Sink {
    private final String name;

    /**
     * @param name what {@link #name()} returns, for logs and errors; not {@code null}
     * @throws NullPointerException when {@code name} is {@code null}
     */
    protected TestSink(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    @Override
    public final String name() {
        return name;
    }

    /** An empty set: routes of any target kind are accepted. */
    @Override
    public Set<String> targetKinds() {
        return Set.of();
    }

    /** Does nothing: there is no broker to connect to. */
    @Override
    public void start() {}

    /** Does nothing: there is nothing to release. */
    @Override
    public void close() {}
}
