package io.pgbridge.spi.support;

import io.pgbridge.spi.Setting;
import java.time.Duration;
import java.util.Objects;

/**
 * Checks of the arguments given to a sink's typed configuration builder, against the range of the {@link Setting}
 * the same option has as a string, so that code accepts exactly what the settings accept. Stateless; safe from any
 * thread.
 */
public final class Arguments {
    private Arguments() {}

    /**
     * Returns {@code value} when it lies within the range of {@code setting}, a {@link Setting#durationMs} setting.
     *
     * @param option the builder option, for the message ({@code connectTimeout})
     * @throws NullPointerException naming {@code option} when {@code value} is {@code null}
     * @throws IllegalArgumentException {@code "<option> must be PT0.001S to PT1H, was PT0S"} when it is outside
     */
    public static Duration inRange(Setting setting, String option, Duration value) {
        Objects.requireNonNull(value, option);
        Duration min = Duration.ofMillis(setting.min());
        Duration max = Duration.ofMillis(setting.max());
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(option + " must be " + min + " to " + max + ", was " + value);
        }
        return value;
    }

    /**
     * Returns {@code value} when it lies within the range of {@code setting}, a {@link Setting#integer} setting.
     *
     * @param option the builder option, for the message ({@code maxConnections})
     * @throws IllegalArgumentException {@code "<option> must be 1 to 1000000, was 0"} when it is outside
     */
    public static long inRange(Setting setting, String option, long value) {
        if (value < setting.min() || value > setting.max()) {
            throw new IllegalArgumentException(
                    option + " must be " + setting.min() + " to " + setting.max() + ", was " + value);
        }
        return value;
    }
}
