package io.pgbridge;

/**
 * PostgreSQL or a broker could not be reached, refused the credentials, or dropped the connection in a way that
 * pgbridge could not recover from. The message names the endpoint with its password redacted.
 */
public class ConnectionException extends PgBridgeException {
    private static final long serialVersionUID = 1L;

    public ConnectionException(String message) {
        super(message);
    }

    public ConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
