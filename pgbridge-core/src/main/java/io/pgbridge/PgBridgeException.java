package io.pgbridge;

/**
 * The root of every exception pgbridge throws. Unchecked: the fluent API never leaks {@code SQLException} or
 * {@code IOException}; the original exception stays attached as the {@linkplain #getCause() cause}.
 *
 * <p>Subclasses say what went wrong: {@link ConfigurationException} (bad settings, found by {@code build()}),
 * {@link ConnectionException} (PostgreSQL or a broker could not be reached or refused us), {@link DeliveryException}
 * (a sink could not deliver), {@link SchemaException} (the {@code pgbridge} schema or a database prerequisite).
 * Messages never contain passwords.
 */
public class PgBridgeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PgBridgeException(String message) {
        super(message);
    }

    public PgBridgeException(String message, Throwable cause) {
        super(message, cause);
    }
}
