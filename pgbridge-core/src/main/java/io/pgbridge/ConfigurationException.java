package io.pgbridge;

import java.util.List;

/**
 * One or more settings are invalid. Thrown by {@code build()} and by {@link PgBridgeConfig} with <em>every</em>
 * problem found, not just the first; each problem names the key, the value (secrets redacted) and the rule it broke.
 */
public class ConfigurationException extends PgBridgeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigurationException(List<String> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    public ConfigurationException(String problem) {
        this(List.of(problem));
    }

    /** Each problem as one line: {@code KEY='value': rule}. Never empty. */
    public List<String> problems() {
        return problems;
    }

    private static String format(List<String> problems) {
        if (problems.size() == 1) {
            return "Invalid pgbridge configuration: " + problems.get(0);
        }
        StringBuilder sb = new StringBuilder("Invalid pgbridge configuration (" + problems.size() + " problems):");
        for (String p : problems) {
            sb.append(System.lineSeparator()).append("  - ").append(p);
        }
        return sb.toString();
    }
}
