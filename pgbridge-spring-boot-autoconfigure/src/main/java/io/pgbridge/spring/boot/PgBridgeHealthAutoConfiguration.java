package io.pgbridge.spring.boot;

import io.pgbridge.PgBridge;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code pgbridge} health indicator ({@link PgBridgeHealthIndicator}) when Spring Boot's health support is on the
 * class path (spring-boot-health, brought by the actuator) and a {@link PgBridge} bean exists, the auto-configured one
 * or the application's. Off with {@code management.health.pgbridge.enabled=false}.
 */
@AutoConfiguration(after = PgBridgeAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnBean(PgBridge.class)
public class PgBridgeHealthAutoConfiguration {
    /** Nested so that Spring Boot 3.5, which has no spring-boot-health, never loads these types. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnEnabledHealthIndicator("pgbridge")
    static class Indicator {
        @Bean
        @ConditionalOnMissingBean(name = "pgbridgeHealthIndicator")
        PgBridgeHealthIndicator pgbridgeHealthIndicator(PgBridge bridge) {
            return new PgBridgeHealthIndicator(bridge);
        }
    }
}
