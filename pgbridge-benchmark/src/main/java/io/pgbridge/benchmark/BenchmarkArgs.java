package io.pgbridge.benchmark;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code key=value} arguments of a benchmark's {@code main}, checked against the keys the program knows:
 *
 * <pre>{@code
 * BenchmarkArgs a = BenchmarkArgs.parse(args, "events=100000", "only=bare,sink", "redis=redis://127.0.0.1:6379");
 * int events = a.integer("events");
 * }</pre>
 *
 * Each known key is written {@code key=default}, as in the program's Javadoc. An argument splits at its first
 * {@code =} (a value may contain more). A key given twice takes its last value, except a repeatable key, which has no
 * default and keeps every value ({@link #words}). An argument without {@code =}, an unknown key, or a value that is
 * not a number where one is read throws {@link IllegalArgumentException} naming the argument and the known keys.
 */
final class BenchmarkArgs {
    private final Map<String, String> values;
    private final Map<String, List<String>> repeated;

    private BenchmarkArgs(Map<String, String> values, Map<String, List<String>> repeated) {
        this.values = values;
        this.repeated = repeated;
    }

    /** {@code args} read against {@code known} ({@code key=default} each); no key repeatable. */
    static BenchmarkArgs parse(String[] args, String... known) {
        return parse(args, List.of(), known);
    }

    /**
     * {@code args} read against {@code known} ({@code key=default} each) and the {@code repeatable} keys, which may be
     * given any number of times and have no default.
     */
    static BenchmarkArgs parse(String[] args, Collection<String> repeatable, String... known) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String k : known) {
            int eq = k.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("a known key is written key=default, not " + k);
            }
            values.put(k.substring(0, eq), k.substring(eq + 1));
        }
        Map<String, List<String>> repeated = new LinkedHashMap<>();
        for (String k : repeatable) {
            repeated.put(k, new ArrayList<>());
        }
        for (String a : args) {
            int eq = a.indexOf('=');
            String key = eq < 0 ? null : a.substring(0, eq);
            if (key == null || !(values.containsKey(key) || repeated.containsKey(key))) {
                String what = key == null ? "is not key=value" : "has an unknown key";
                throw new IllegalArgumentException("argument \"" + a + "\" " + what + "; known keys: "
                        + known(values.keySet(), repeated.keySet()));
            }
            String value = a.substring(eq + 1);
            if (repeated.containsKey(key)) {
                repeated.get(key).add(value);
            } else {
                values.put(key, value);
            }
        }
        return new BenchmarkArgs(values, repeated);
    }

    private static String known(Set<String> single, Set<String> repeatable) {
        List<String> all = new ArrayList<>(single);
        repeatable.forEach(k -> all.add(k + " (repeatable)"));
        return String.join(", ", all);
    }

    /** The value of {@code key}: the last one given, else its default. */
    String string(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalStateException("the program does not declare the key " + key);
        }
        return v;
    }

    /** The value of {@code key} as an {@code int}. */
    int integer(String key) {
        return integer(key, string(key));
    }

    /** The value of {@code key} split at commas ({@link String#split}: trailing empty parts are dropped). */
    List<String> list(String key) {
        return List.of(string(key).split(","));
    }

    /**
     * The value of {@code key} split at commas, each part one of {@code choices}.
     *
     * @throws IllegalArgumentException naming the parts that are not, and the choices
     */
    List<String> list(String key, List<String> choices) {
        List<String> parts = list(key);
        List<String> unknown = parts.stream().filter(p -> !choices.contains(p)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(
                    "argument " + key + ": " + unknown + " not among " + String.join(",", choices));
        }
        return parts;
    }

    /** The value of {@code key} as a comma-separated list of {@code int}s. */
    List<Integer> integers(String key) {
        return list(key).stream().map(v -> integer(key, v)).toList();
    }

    /**
     * Every value given for the repeatable {@code key}, in the order given, each split at spaces (such as {@code
     * jvm=-Xmx256m jvm="-XX:+UseG1GC -XX:MaxGCPauseMillis=20"}); empty when none was given.
     */
    List<String> words(String key) {
        List<String> given = repeated.get(key);
        if (given == null) {
            throw new IllegalStateException("the program does not declare the repeatable key " + key);
        }
        return given.stream().flatMap(v -> List.of(v.split(" ")).stream()).toList();
    }

    /** The values of the keys that are not repeatable, in the order the program declared them. */
    Map<String, String> values() {
        return new LinkedHashMap<>(values);
    }

    private static int integer(String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "argument " + key + ": \"" + value + "\" is not a whole number (int)", e);
        }
    }
}
