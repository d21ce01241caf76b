package io.pgbridge.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.pgbridge.PgBridge;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.Sink;
import io.pgbridge.sql.PgBridgeSchema;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.api.callback.Callback;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.util.ClassUtils;

/**
 * pgbridge in a Spring Boot application: a {@link PgBridge} bean from the {@code pgbridge.*} properties ({@link
 * PgBridgeProperties}) plus the application's {@link Sink} beans (one: the bridge's sink; several: named sinks by bean
 * name), its {@link DeadLetterHandler} bean, its Micrometer {@code MeterRegistry} and every {@link
 * PgBridgeBuilderCustomizer}; a {@link PgBridgeLifecycle} that runs it; an {@link OutboxPublisher} over the
 * application's {@code DataSource}; the outbox schema through the application's Flyway when it has one ({@link
 * PgBridgeFlywayCallback}), else by the lifecycle. Off with {@code pgbridge.enabled=false}. Backs off, bean by bean, when the
 * application defines its own {@code PgBridge}, {@code PgBridgeLifecycle} or {@code OutboxPublisher}.
 */
@AutoConfiguration(
        afterName = {
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
            // the same on Spring Boot 3.5
            "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
            "org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
            "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration"
        })
@ConditionalOnClass(PgBridge.class)
@ConditionalOnProperty(
        prefix = PgBridgeProperties.PREFIX,
        name = "enabled",
        havingValue = "true",
        matchIfMissing = true)
@EnableConfigurationProperties(PgBridgeProperties.class)
public class PgBridgeAutoConfiguration {

    /**
     * The bridge, built (validated, not connected) from the properties and beans. The database defaults to {@code
     * spring.datasource.url}, {@code username} and {@code password}.
     *
     * @throws io.pgbridge.ConfigurationException listing every problem the core finds (settings by their core key)
     */
    @Bean
    @ConditionalOnMissingBean
    public PgBridge pgBridge(
            PgBridgeProperties properties,
            Environment environment,
            ListableBeanFactory beans,
            ObjectProvider<DeadLetterHandler> deadLetterHandler,
            ObjectProvider<PgBridgeBuilderCustomizer> customizers) {
        PgBridge.Builder builder = PgBridge.builder();
        if (properties.getPostgres().getUri() == null) {
            String url = environment.getProperty("spring.datasource.url");
            if (url != null) {
                builder.postgres(url);
                String user = environment.getProperty("spring.datasource.username");
                String password = environment.getProperty("spring.datasource.password");
                if (user != null || password != null) {
                    builder.postgresCredentials(user, password);
                }
            }
        }
        properties.applyTo(builder);
        Map<String, Sink> sinks = beans.getBeansOfType(Sink.class);
        if (sinks.size() == 1) {
            builder.sink(sinks.values().iterator().next());
        } else {
            sinks.forEach(builder::sink);
        }
        deadLetterHandler.ifUnique(builder::deadLetterHandler);
        customizers.orderedStream().forEach(c -> c.customize(builder));
        return builder.build();
    }

    /**
     * Starts and stops the bridge with the context, installing the outbox schema first when asked and the
     * application's Flyway did not install it ({@link PgBridgeFlywayCallback}).
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(PgBridge.class)
    public PgBridgeLifecycle pgBridgeLifecycle(
            PgBridge bridge,
            PgBridgeProperties properties,
            ObjectProvider<DataSource> dataSource,
            ListableBeanFactory beans) {
        Runnable install = () -> {};
        if (properties.getOutbox().isInstallSchema() && properties.runsOutbox() && schemaInstallerPresent()) {
            DataSource ds = dataSource.getIfUnique();
            if (ds != null) {
                String schema = properties.getOutbox().effectiveSchema();
                install = () -> {
                    if (!PgBridgeFlywayCallback.migratedIn(beans)) {
                        PgBridgeSchema.migrate(ds, schema);
                    }
                };
            }
        }
        return new PgBridgeLifecycle(bridge, install);
    }

    private static boolean schemaInstallerPresent() {
        return ClassUtils.isPresent("io.pgbridge.sql.PgBridgeSchema", PgBridgeAutoConfiguration.class.getClassLoader());
    }

    /**
     * The outbox schema through the application's Flyway, when it has one: Spring Boot's Flyway auto-configuration
     * registers every Flyway {@code Callback} bean with it, and this one applies pgbridge's scripts before the
     * application's migrations. Off with {@code pgbridge.outbox.install-schema=false}.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.flywaydb.core.Flyway", "io.pgbridge.sql.PgBridgeSchema"})
    @ConditionalOnBean(type = "org.flywaydb.core.Flyway")
    @ConditionalOnProperty(
            prefix = PgBridgeProperties.PREFIX + ".outbox",
            name = "install-schema",
            havingValue = "true",
            matchIfMissing = true)
    static class FlywaySchemaConfiguration {
        @Bean
        @ConditionalOnMissingBean
        PgBridgeFlywayCallback pgBridgeFlywaySchema(PgBridgeProperties properties) {
            return new PgBridgeFlywayCallback(properties);
        }

        @Bean
        Callback pgBridgeFlywayCallback(PgBridgeFlywayCallback schema) {
            return schema.asFlywayCallback();
        }
    }

    /** The outbox from application code, over the application's {@code DataSource} and transactions. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(JdbcTemplate.class)
    @ConditionalOnBean(DataSource.class)
    static class OutboxPublisherConfiguration {
        @Bean
        @ConditionalOnMissingBean
        OutboxPublisher outboxPublisher(
                DataSource dataSource,
                PgBridgeProperties properties,
                ObjectProvider<OutboxHeaderSource> headerSources) {
            PgBridgeProperties.Outbox outbox = properties.getOutbox();
            return new OutboxPublisher(
                    new JdbcTemplate(dataSource),
                    outbox.effectiveSchema(),
                    outbox.effectiveStreamId(),
                    headerSources.orderedStream().toList());
        }
    }

    /** The current trace context on outbox events, when the application has Micrometer Tracing configured. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.tracing.Tracer")
    static class TracingConfiguration {
        @Bean
        OutboxHeaderSource tracingOutboxHeaders(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
            return new TracingOutboxHeaders(tracer, propagator);
        }
    }

    /** Binds the bridge's metrics to the application's Micrometer registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class MetricsConfiguration {
        @Bean
        PgBridgeBuilderCustomizer pgBridgeMeterRegistryCustomizer(ObjectProvider<MeterRegistry> registry) {
            return builder -> registry.ifUnique(builder::meterRegistry);
        }
    }
}
