package io.pgbridge;

/** A sink could not deliver an event: the broker refused it, nacked it, or did not confirm it in time. */
public class DeliveryException extends PgBridgeException {
    private static final long serialVersionUID = 1L;

    public DeliveryException(String message) {
        super(message);
    }

    public DeliveryException(String message, Throwable cause) {
        super(message, cause);
    }
}
