package io.pgbridge;

/**
 * The database is not ready for what was asked: a missing prerequisite ({@code wal_level}, a privilege, a table),
 * or a problem with the {@code pgbridge} schema. The message names each unmet prerequisite and how to fix it.
 */
public class SchemaException extends PgBridgeException {
    private static final long serialVersionUID = 1L;

    public SchemaException(String message) {
        super(message);
    }

    public SchemaException(String message, Throwable cause) {
        super(message, cause);
    }
}
