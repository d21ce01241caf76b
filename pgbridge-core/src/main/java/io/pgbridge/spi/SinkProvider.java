package io.pgbridge.spi;

import java.util.List;
import java.util.Set;

/**
 * Creates {@link Sink}s of one kind. Registered in {@code META-INF/services/io.pgbridge.spi.SinkProvider} and found
 * by {@link java.util.ServiceLoader}; selected by {@link #name()} or by the scheme of the upstream URI. Must have a
 * public no-argument constructor and be cheap to instantiate: the bridge loads every provider to list them.
 */
public interface SinkProvider {

    /** The name that selects this provider, such as {@code amqp}. Lower case. */
    String name();

    /** The URI schemes that select this provider, such as {@code amqp} and {@code amqps}. */
    Set<String> schemes();

    /** The settings this sink reads, so that they are checked and documented; may be empty. */
    List<Setting> settings();

    /**
     * Creates a sink; does not connect yet ({@link Sink#start()} does).
     *
     * @throws io.pgbridge.ConfigurationException listing every invalid setting
     */
    Sink create(SinkConfig config);
}
