package io.pgbridge;

import java.util.Objects;

/**
 * Where a route sends events: a target {@code kind} the sink understands ({@code exchange}, {@code queue},
 * {@code topic}, {@code stream}, ...) and a {@code name} in the broker (an exchange, a queue, a topic, a stream key).
 * Optionally names the sink when the bridge has several ({@code null} means the only one).
 *
 * <p>Text form: {@code kind:name}, or {@code sink/kind:name} to pick a named sink. Immutable.
 */
public final class Target {
    private final String sink;
    private final String kind;
    private final String name;

    private Target(String sink, String kind, String name) {
        this.sink = sink;
        this.kind = Objects.requireNonNull(kind, "kind");
        this.name = Objects.requireNonNull(name, "name");
        if (kind.isEmpty() || name.isEmpty()) {
            throw new IllegalArgumentException("target kind and name must not be empty");
        }
    }

    /** A target on the bridge's only sink. */
    public static Target of(String kind, String name) {
        return new Target(null, kind, name);
    }

    /** A target on the sink registered under {@code sink}. */
    public static Target of(String sink, String kind, String name) {
        return new Target(Objects.requireNonNull(sink, "sink"), kind, name);
    }

    public static Target exchange(String name) {
        return of("exchange", name);
    }

    public static Target queue(String name) {
        return of("queue", name);
    }

    public static Target topic(String name) {
        return of("topic", name);
    }

    public static Target stream(String name) {
        return of("stream", name);
    }

    /** The sink name, or {@code null} for the bridge's only sink. */
    public String sink() {
        return sink;
    }

    public String kind() {
        return kind;
    }

    public String name() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Target
                && Objects.equals(sink, ((Target) o).sink)
                && kind.equals(((Target) o).kind)
                && name.equals(((Target) o).name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sink, kind, name);
    }

    /** The text form, {@code kind:name} or {@code sink/kind:name}. */
    @Override
    public String toString() {
        return (sink == null ? "" : sink + "/") + kind + ':' + name;
    }
}
