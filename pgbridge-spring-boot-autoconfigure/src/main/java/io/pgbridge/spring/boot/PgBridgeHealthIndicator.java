package io.pgbridge.spring.boot;

import io.pgbridge.Health;
import io.pgbridge.PgBridge;
import io.pgbridge.RouteStats;
import io.pgbridge.SourceStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code pgbridge} health contributor, from {@link PgBridge#health()}: UP when the bridge is ready (running,
 * every source reading within its lag threshold, every route delivering), else DOWN with the problems, such as a
 * route retrying while its broker is down. Details: {@code state}, each source's and route's state, and {@code
 * problems} (never a password). Cheap: a snapshot taken without blocking.
 */
public class PgBridgeHealthIndicator implements HealthIndicator {
    private final PgBridge bridge;

    public PgBridgeHealthIndicator(PgBridge bridge) {
        this.bridge = Objects.requireNonNull(bridge, "bridge");
    }

    @Override
    public org.springframework.boot.health.contributor.Health health() {
        Health h = bridge.health();
        var builder = h.ready()
                ? org.springframework.boot.health.contributor.Health.up()
                : org.springframework.boot.health.contributor.Health.down();
        builder.withDetail("state", h.state().name());
        Map<String, String> sources = new LinkedHashMap<>();
        for (SourceStats s : h.sources()) {
            sources.put(s.name(), s.state().name());
        }
        Map<String, String> routes = new LinkedHashMap<>();
        for (RouteStats r : h.routes()) {
            routes.put(r.route().toString(), r.state().name());
        }
        builder.withDetail("sources", sources).withDetail("routes", routes);
        if (!h.ready()) {
            builder.withDetail("problems", h.problems());
        }
        return builder.build();
    }
}
