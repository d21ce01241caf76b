package io.pgbridge;

/** How a source is doing, as {@link PgBridge#stats()} shows it. */
public enum SourceState {
    /** Connecting for the first time. */
    STARTING,
    /** Reading from PostgreSQL. */
    READING,
    /** Lost its connection and reconnects with backoff; the reason says why. */
    RECONNECTING,
    /**
     * Fails the same way again and again (the same error at the same position, such as a message it cannot decode):
     * it keeps retrying at its longest backoff, but needs an operator. The reason says what fails.
     */
    FAILED,
    /** Stopped reading (the bridge is closing). */
    STOPPED
}
