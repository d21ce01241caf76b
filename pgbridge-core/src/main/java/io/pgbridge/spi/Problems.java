package io.pgbridge.spi;

import io.pgbridge.ConfigurationException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * Collects configuration problems so that they are all reported at once, in the order found:
 *
 * <pre>{@code
 * Problems problems = new Problems();
 * problems.check(settings, SETTINGS);               // type and range of every value
 * if (port < 1) problems.add(PORT, text, "must be a port number");
 * problems.throwIfAny();                            // one ConfigurationException naming all of them
 * }</pre>
 *
 * <p>Each problem is one line naming the key, the value (secrets and URI passwords redacted) and the rule it broke,
 * as {@link ConfigurationException#problems()} lists it. Not thread-safe: one accumulator per validation.
 */
public final class Problems {
    private final List<String> lines = new ArrayList<>();

    /**
     * Adds one problem line as given, once: a line listed already is not repeated (two sources that take the same
     * setting find the same problem in it).
     */
    public Problems add(String problem) {
        if (!lines.contains(problem)) {
            lines.add(problem);
        }
        return this;
    }

    /** Adds {@code KEY='value': rule} for a setting, the value redacted ({@link Settings#problem}). */
    public Problems add(Setting setting, String value, String rule) {
        return add(Settings.problem(setting, value, rule));
    }

    /** Adds every problem of a configuration exception, for parts validated elsewhere. */
    public Problems addAll(ConfigurationException e) {
        return addAll(e.problems());
    }

    /** Adds several problem lines. */
    public Problems addAll(Collection<String> problems) {
        problems.forEach(this::add);
        return this;
    }

    /** Adds every value of these settings that does not fit its type or range ({@link Settings#problems}). */
    public Problems check(Settings settings, Collection<Setting> declared) {
        return addAll(settings.problems(declared));
    }

    /**
     * Runs a step that validates by throwing: returns its result, or {@code null} after adding the problems of the
     * {@link ConfigurationException} it threw.
     */
    public <T> T collect(Supplier<T> step) {
        try {
            return step.get();
        } catch (ConfigurationException e) {
            addAll(e);
            return null;
        }
    }

    public boolean isEmpty() {
        return lines.isEmpty();
    }

    /** How many problems were found so far, to tell whether a step added any. */
    public int size() {
        return lines.size();
    }

    /** The problems found so far, in order; a copy. */
    public List<String> list() {
        return List.copyOf(lines);
    }

    /** @throws ConfigurationException listing every problem, when there is at least one */
    public void throwIfAny() {
        if (!lines.isEmpty()) {
            throw exception();
        }
    }

    /**
     * The exception listing every problem, for a step that cannot go on ({@code throw problems.exception()}).
     *
     * @throws IllegalStateException when no problem was found: a step that gives up must have said why
     */
    public ConfigurationException exception() {
        if (lines.isEmpty()) {
            throw new IllegalStateException("no configuration problem was recorded");
        }
        return new ConfigurationException(lines);
    }

    @Override
    public String toString() {
        return "Problems" + lines;
    }
}
