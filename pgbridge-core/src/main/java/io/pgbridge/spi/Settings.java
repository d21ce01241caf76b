package io.pgbridge.spi;

import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.support.Redaction;
import io.pgbridge.spi.support.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Setting values by canonical key, as read from the builder, the environment or a properties file. Immutable and
 * thread-safe. Typed getters fall back to the {@link Setting}'s default and throw {@link ConfigurationException} for
 * a value of the wrong type; {@link #problems(Collection)} finds all such problems up front, which is what
 * {@code build()} does, so after a successful build the getters do not throw.
 */
public final class Settings {
    private static final Settings EMPTY = new Settings(Map.of());

    private final Map<String, String> values;

    private Settings(Map<String, String> values) {
        this.values = values;
    }

    public static Settings empty() {
        return EMPTY;
    }

    /** Values by canonical key; {@code null} values are dropped. */
    public static Settings of(Map<String, String> values) {
        Map<String, String> copy = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (v != null) {
                copy.put(k, v);
            }
        });
        return new Settings(Collections.unmodifiableMap(copy));
    }

    /** A copy with one more value ({@code null} removes it). */
    public Settings with(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(values);
        if (value == null) {
            copy.remove(key);
        } else {
            copy.put(key, value);
        }
        return new Settings(Collections.unmodifiableMap(copy));
    }

    /**
     * A copy holding only the values of these settings: what one component may see (a sink never gets the database
     * password).
     */
    public Settings only(Collection<Setting> settings) {
        Map<String, String> copy = new LinkedHashMap<>();
        for (Setting s : settings) {
            String v = values.get(s.key());
            if (v != null) {
                copy.put(s.key(), v);
            }
        }
        return new Settings(Collections.unmodifiableMap(copy));
    }

    /** The raw values by canonical key. Contains secrets in clear: never log it. */
    public Map<String, String> asMap() {
        return values;
    }

    /** The value as set, without the default. */
    public Optional<String> raw(Setting setting) {
        return Optional.ofNullable(values.get(setting.key()));
    }

    public boolean isSet(Setting setting) {
        return values.containsKey(setting.key());
    }

    /** The value or the default; {@code null} when neither exists. */
    public String string(Setting setting) {
        String v = values.get(setting.key());
        return v != null ? v : setting.defaultValue();
    }

    /** The value of a secret setting, or {@code null} when unset. */
    public Secret secret(Setting setting) {
        String v = string(setting);
        return v == null ? null : Secret.of(v);
    }

    public long integer(Setting setting) {
        return parseLong(setting, string(setting));
    }

    public boolean bool(Setting setting) {
        Boolean b = parseBoolean(string(setting));
        if (b == null) {
            throw new ConfigurationException(problem(setting, string(setting), "must be true or false"));
        }
        return b;
    }

    public Duration duration(Setting setting) {
        return Duration.ofMillis(parseLong(setting, string(setting)));
    }

    /** Every value of these settings that does not fit its type or range; empty when all are fine. */
    public List<String> problems(Collection<Setting> settings) {
        List<String> problems = new ArrayList<>();
        for (Setting s : settings) {
            String v = values.get(s.key());
            if (v == null) {
                continue;
            }
            try {
                switch (s.type()) {
                    case INTEGER:
                    case DURATION_MS:
                        parseLong(s, v);
                        break;
                    case BOOLEAN:
                        bool(s);
                        break;
                    default:
                        break;
                }
            } catch (ConfigurationException e) {
                problems.addAll(e.problems());
            }
        }
        return problems;
    }

    /** A problem line: {@code KEY='value': rule}, the value redacted when secret or when it holds credentials. */
    public static String problem(Setting setting, String value, String rule) {
        String shown = setting.isSecret() ? "****" : Redaction.redact(value);
        return setting.envName() + "='" + shown + "': " + rule;
    }

    private static long parseLong(Setting s, String v) {
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw new ConfigurationException(problem(
                    s, v, "must be a whole number" + (s.type() == Setting.Type.DURATION_MS ? " of milliseconds" : "")));
        }
        if (n < s.min() || n > s.max()) {
            throw new ConfigurationException(problem(s, v, "must be between " + s.min() + " and " + s.max()));
        }
        return n;
    }

    private static Boolean parseBoolean(String v) {
        if (v == null) {
            return null;
        }
        switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true":
            case "yes":
            case "on":
            case "1":
                return Boolean.TRUE;
            case "false":
            case "no":
            case "off":
            case "0":
                return Boolean.FALSE;
            default:
                return null;
        }
    }

    /** Lists the keys only; values may be secret. */
    @Override
    public String toString() {
        return "Settings" + values.keySet();
    }
}
