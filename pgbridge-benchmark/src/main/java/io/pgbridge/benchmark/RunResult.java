package io.pgbridge.benchmark;

import java.util.HashMap;
import java.util.Map;

/** The {@code RESULT} line of a child run ({@link Measurements#summary}), its {@code key=value} pairs as numbers. */
record RunResult(String line, Map<String, Double> values) {
    static RunResult parse(String line) {
        Map<String, Double> values = new HashMap<>();
        for (String pair : line.trim().split("\\s+")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                values.put(pair.substring(0, eq), Double.parseDouble(pair.substring(eq + 1)));
            }
        }
        return new RunResult(line, values);
    }

    /**
     * The value of {@code key}.
     *
     * @throws IllegalStateException when the line has no such key
     */
    double get(String key) {
        Double v = values.get(key);
        if (v == null) {
            throw new IllegalStateException("no " + key + " in the reader's result: " + line);
        }
        return v;
    }
}
