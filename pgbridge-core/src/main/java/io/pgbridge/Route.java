package io.pgbridge;

import io.pgbridge.internal.config.RouteParser;
import java.util.List;
import java.util.Objects;

/**
 * Sends every event of one {@code channel} to one {@link Target}. Events of one route are delivered in order.
 *
 * <p>The text form is the seed's {@code BRIDGE_CHANNELS} syntax, {@code channel->kind:name}; several routes are
 * separated by commas: {@code events->exchange:amq.topic, jobs->queue:jobs, wal2json->exchange:amq.topic}. The
 * channel is a NOTIFY channel, {@code schema.table} for WAL changes, an outbox channel, or the special channel
 * {@code wal2json} (all WAL changes, as in the seed). Immutable.
 */
public final class Route {
    private final String channel;
    private final Target target;

    private Route(String channel, Target target) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.target = Objects.requireNonNull(target, "target");
    }

    public static Route of(String channel, Target target) {
        return new Route(channel, target);
    }

    /**
     * Parses a {@code BRIDGE_CHANNELS} string.
     *
     * @throws ConfigurationException listing every malformed entry
     */
    public static List<Route> parse(String bridgeChannels) {
        return RouteParser.parse("BRIDGE_CHANNELS", bridgeChannels);
    }

    public String channel() {
        return channel;
    }

    public Target target() {
        return target;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Route && channel.equals(((Route) o).channel) && target.equals(((Route) o).target);
    }

    @Override
    public int hashCode() {
        return Objects.hash(channel, target);
    }

    /** The text form, {@code channel->kind:name}. */
    @Override
    public String toString() {
        return channel + "->" + target;
    }
}
