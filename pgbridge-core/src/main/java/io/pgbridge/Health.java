package io.pgbridge;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Whether a bridge does its job, from {@link PgBridge#health()}: its state, every source's and every route's state
 * (with since when and why), and each replication slot's lag against {@code health.lag-threshold-bytes}. Immutable; a
 * snapshot taken without blocking, cheap enough for a probe every second.
 *
 * <ul>
 *   <li>{@link #live()}: the bridge has not failed or closed. A bridge that is not live does nothing any more and must
 *       be started again (a new {@link PgBridge}); a process running it should exit or be restarted.
 *   <li>{@link #ready()}: the bridge runs, every source reads ({@link SourceState#READING}) with its slot's lag, where
 *       measured, at most the threshold, and every route delivers ({@link RouteState#DELIVERING}). A route that
 *       retries (its broker is down or refuses) or halted, a source that reconnects or fails, or a slot past the
 *       threshold make it not ready; {@link #problems()} says which and why. Not ready is not fatal: the bridge keeps
 *       retrying and turns ready again by itself once the cause is gone (except a halted route, which needs an
 *       operator).
 * </ul>
 *
 * @param state the bridge's state
 * @param sources every source, in start order; empty before {@link PgBridge#start()}
 * @param routes every route, in route order; empty before {@link PgBridge#start()}
 * @param lagThresholdBytes the slot lag above which a source is not ready ({@code health.lag-threshold-bytes})
 * @param at when the snapshot was taken
 */
public record Health(
        PgBridge.State state, List<SourceStats> sources, List<RouteStats> routes, long lagThresholdBytes, Instant at) {
    public Health {
        Objects.requireNonNull(state, "state");
        sources = List.copyOf(sources);
        routes = List.copyOf(routes);
        Objects.requireNonNull(at, "at");
    }

    /** Whether the bridge has not failed or closed: {@link PgBridge.State} other than FAILED, STOPPING, CLOSED. */
    public boolean live() {
        return state != PgBridge.State.FAILED && state != PgBridge.State.STOPPING && state != PgBridge.State.CLOSED;
    }

    /** Whether the bridge runs and every source and route is healthy: {@link #problems()} is empty. */
    public boolean ready() {
        return problems().isEmpty();
    }

    /** Whether this source's slot lag was measured above the threshold. */
    public boolean lagExceeded(SourceStats source) {
        return source.lagBytes().isPresent() && source.lagBytes().getAsLong() > lagThresholdBytes;
    }

    /**
     * Why the bridge is not ready, one line per cause (the bridge's state, a source not reading or past the lag
     * threshold, a route not delivering, with since when and the reason); empty when ready. Never contains a
     * password.
     */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (state != PgBridge.State.RUNNING) {
            problems.add("the bridge is " + state);
        }
        for (SourceStats s : sources) {
            if (s.state() != SourceState.READING) {
                problems.add("source " + s.name() + " is " + s.state() + " since " + s.since()
                        + (s.reason() == null ? "" : ": " + s.reason()));
            }
            if (lagExceeded(s)) {
                problems.add("source " + s.name() + " is " + s.lagBytes().getAsLong()
                        + " bytes behind the server's WAL, above the threshold of " + lagThresholdBytes + " bytes");
            }
        }
        for (RouteStats r : routes) {
            if (r.state() != RouteState.DELIVERING) {
                problems.add("route " + r.route() + " is " + r.state() + " since " + r.since() + " (" + r.attempts()
                        + " failed attempts): " + r.lastError());
            }
        }
        return problems;
    }
}
