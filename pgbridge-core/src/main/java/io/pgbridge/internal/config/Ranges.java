package io.pgbridge.internal.config;

import io.pgbridge.spi.Setting;
import java.time.Duration;
import java.util.Objects;

/**
 * Range checks of typed option values against the bounds their string {@link Setting} declares, so that a value set
 * in code and the same value read from the environment obey one rule.
 */
public final class Ranges {
    private Ranges() {}

    /** @throws IllegalArgumentException naming the option, its key and the bounds */
    public static long check(Setting setting, String option, long value) {
        if (value < setting.min() || value > setting.max()) {
            throw new IllegalArgumentException(option + " (" + setting.key() + ") must be between " + setting.min()
                    + " and " + setting.max() + ", was " + value);
        }
        return value;
    }

    /** @throws IllegalArgumentException when the duration in milliseconds lies outside the setting's bounds */
    public static Duration check(Setting setting, String option, Duration value) {
        Objects.requireNonNull(value, option);
        if (value.toMillis() < setting.min() || value.toMillis() > setting.max()) {
            throw new IllegalArgumentException(option + " (" + setting.key() + ") must be between " + setting.min()
                    + " ms and " + setting.max() + " ms, was " + value.toMillis() + " ms");
        }
        return value;
    }
}
