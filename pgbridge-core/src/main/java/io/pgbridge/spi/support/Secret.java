package io.pgbridge.spi.support;

import java.util.Objects;

/**
 * A password or token. {@link #toString()} prints {@code ****}, so a secret that reaches a log line or an exception
 * message by accident reveals nothing. Immutable.
 */
public final class Secret {
    private final String value;

    private Secret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    public static Secret of(String value) {
        return new Secret(value);
    }

    /** The secret in clear, to hand to a client library. Never log it. */
    public String reveal() {
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret && value.equals(((Secret) o).value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return "****";
    }
}
