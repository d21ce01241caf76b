package io.pgbridge.spi.support;

import java.time.Duration;
import java.util.Objects;

/** Checks of the arguments given to a sink's typed configuration builder. Stateless; safe from any thread. */
public final class Arguments {
    private Arguments() {}

    /**
     * Returns {@code value} when it is longer than zero.
     *
     * @param option the builder option, for the message ({@code connectTimeout})
     * @throws NullPointerException naming {@code option} when {@code value} is {@code null}
     * @throws IllegalArgumentException {@code "<option> must be positive, was <value>"} when it is zero or negative
     */
    public static Duration positive(String option, Duration value) {
        if (Objects.requireNonNull(value, option).isNegative() || value.isZero()) {
            throw new IllegalArgumentException(option + " must be positive, was " + value);
        }
        return value;
    }
}
