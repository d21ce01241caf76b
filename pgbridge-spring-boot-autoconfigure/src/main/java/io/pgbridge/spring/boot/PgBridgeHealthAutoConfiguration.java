package io.pgbridge.spring.boot;

import io.pgbridge.PgBridge;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code pgbridge} health indicator ({@link PgBridgeHealthIndicator}) when Spring Boot's health support is on the
 * class path (spring-boot-health, brought by the actuator) and a {@link PgBridge} bean exists, the auto-configured one
 * or the application's. Off with {@code management.health.pgbridge.enabled=false}.
 */
@AutoConfiguration(after = PgBridgeAutoConfiguration.class)
@ConditionalOnClass({PgBridge.class, HealthIndicator.class})
@ConditionalOnBean(PgBridge.class)
@ConditionalOnEnabledHealthIndicator("pgbridge")
public class PgBridgeHealthAutoConfiguration {
    @Bean
    @ConditionalOnMissingBean(name = "pgbridgeHealthIndicator")
    public PgBridgeHealthIndicator pgbridgeHealthIndicator(PgBridge bridge) {
        return new PgBridgeHealthIndicator(bridge);
    }
}
