package io.pgbridge.spi;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Describes one configuration key: its canonical name, the environment variable that sets it, the seed's alias
 * names, its type, its default and whether it is secret. Core, sources and sinks each declare theirs; {@code build()}
 * checks every value against its type and reports all problems at once.
 *
 * <p>Canonical keys are lower case with dots and dashes, and a unit suffix for times ({@code status-interval-ms}).
 * The environment name is {@code PGBRIDGE_} plus the key upper-cased with dots and dashes turned into underscores:
 * {@code upstream.uri} is {@code PGBRIDGE_UPSTREAM_URI}. Immutable.
 */
public final class Setting {
    /** The value types a setting can have. */
    public enum Type {
        STRING,
        /** A whole number, checked against {@link #min()} and {@link #max()}. */
        INTEGER,
        /** {@code true} or {@code false} (also {@code yes/no}, {@code on/off}, {@code 1/0}). */
        BOOLEAN,
        /** Milliseconds, a whole number between {@link #min()} and {@link #max()}. */
        DURATION_MS
    }

    private final String key;
    private final Type type;
    private final String description;
    private final String defaultValue;
    private final boolean secret;
    private final List<String> aliases;
    private final List<String> deprecatedKeys;
    private final long min;
    private final long max;

    private Setting(
            String key,
            Type type,
            String description,
            String defaultValue,
            boolean secret,
            List<String> aliases,
            List<String> deprecatedKeys,
            long min,
            long max) {
        this.key = Objects.requireNonNull(key, "key");
        this.type = Objects.requireNonNull(type, "type");
        this.description = Objects.requireNonNull(description, "description");
        this.defaultValue = defaultValue;
        this.secret = secret;
        this.aliases = List.copyOf(aliases);
        this.deprecatedKeys = List.copyOf(deprecatedKeys);
        this.min = min;
        this.max = max;
    }

    public static Setting string(String key, String description) {
        return new Setting(key, Type.STRING, description, null, false, List.of(), List.of(), 0, 0);
    }

    /** A secret string: its value is printed as {@code ****} everywhere. */
    public static Setting secret(String key, String description) {
        return new Setting(key, Type.STRING, description, null, true, List.of(), List.of(), 0, 0);
    }

    public static Setting integer(String key, String description, long defaultValue, long min, long max) {
        return new Setting(
                key, Type.INTEGER, description, Long.toString(defaultValue), false, List.of(), List.of(), min, max);
    }

    public static Setting bool(String key, String description, boolean defaultValue) {
        return new Setting(
                key, Type.BOOLEAN, description, Boolean.toString(defaultValue), false, List.of(), List.of(), 0, 0);
    }

    /** A duration in milliseconds; the key should end in {@code -ms}. */
    public static Setting durationMs(String key, String description, long defaultMillis, long min, long max) {
        return new Setting(
                key,
                Type.DURATION_MS,
                description,
                Long.toString(defaultMillis),
                false,
                List.of(),
                List.of(),
                min,
                max);
    }

    /** A copy with a default value for a string setting. */
    public Setting withDefault(String value) {
        return new Setting(key, type, description, value, secret, aliases, deprecatedKeys, min, max);
    }

    /** A copy that also answers to these names (environment variables of the seed, such as {@code PGPROXY_LOCAL-...}). */
    public Setting withAliases(String... names) {
        return new Setting(key, type, description, defaultValue, secret, List.of(names), deprecatedKeys, min, max);
    }

    /**
     * A copy that still answers to former keys ({@code delivery-mode} for {@code amqp.delivery-mode}), and to their
     * environment variables: accepted with a warning logged once per key, so that old configurations keep working.
     */
    public Setting withDeprecatedKeys(String... keys) {
        return new Setting(key, type, description, defaultValue, secret, aliases, List.of(keys), min, max);
    }

    /** Former keys, still accepted with a warning; see {@link #withDeprecatedKeys}. */
    public List<String> deprecatedKeys() {
        return deprecatedKeys;
    }

    public String key() {
        return key;
    }

    /** The environment variable, {@code PGBRIDGE_} plus the upper-cased key. */
    public String envName() {
        return envName(key);
    }

    /** The environment variable for a canonical key. */
    public static String envName(String key) {
        return "PGBRIDGE_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public Type type() {
        return type;
    }

    public String description() {
        return description;
    }

    /** The default as text, or {@code null} when the setting has none. */
    public String defaultValue() {
        return defaultValue;
    }

    public boolean isSecret() {
        return secret;
    }

    public List<String> aliases() {
        return aliases;
    }

    public long min() {
        return min;
    }

    public long max() {
        return max;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Setting && key.equals(((Setting) o).key);
    }

    @Override
    public int hashCode() {
        return key.hashCode();
    }

    @Override
    public String toString() {
        return key;
    }
}
