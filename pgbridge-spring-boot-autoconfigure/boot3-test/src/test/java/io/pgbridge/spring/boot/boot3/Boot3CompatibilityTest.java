package io.pgbridge.spring.boot.boot3;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.PgBridge;
import io.pgbridge.spring.boot.OutboxPublisher;
import io.pgbridge.spring.boot.PgBridgeAutoConfiguration;
import io.pgbridge.spring.boot.PgBridgeHealthAutoConfiguration;
import io.pgbridge.spring.boot.PgBridgeLifecycle;
import io.pgbridge.spring.boot.PgBridgeProperties;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.callback.Callback;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The auto-configuration, compiled against Spring Boot 4.0, on Spring Boot 3.5: properties bind and validate, the
 * bridge runs with the context, the OutboxPublisher exists, {@code pgbridge.enabled=false} turns it off. The health
 * indicator is Spring Boot 4's ({@code spring-boot-health}) and backs off here. Spring Boot 3.5's Flyway
 * auto-configuration runs pgbridge's schema scripts through its callback, as Spring Boot 4's does.
 */
class Boot3CompatibilityTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(PgBridgeAutoConfiguration.class, PgBridgeHealthAutoConfiguration.class))
            .withBean(DataSource.class, TestServices::postgresDataSource)
            .withPropertyValues(
                    "pgbridge.postgres.uri=" + TestServices.postgresUrl(),
                    "pgbridge.routes=pgbridge_boot3_test->queue:q",
                    "pgbridge.pipeline.delivery-threads=2");

    @Test
    void runsOnSpringBoot35() {
        assertThat(SpringBootVersion.getVersion()).startsWith("3.5.");
        runner.run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(OutboxPublisher.class);
            assertThat(context.getBean(PgBridgeProperties.class).getPipeline().getDeliveryThreads())
                    .isEqualTo(2);
            PgBridge bridge = context.getBean(PgBridge.class);
            assertThat(bridge.state()).isEqualTo(PgBridge.State.RUNNING);
            assertThat(context.getBean(PgBridgeLifecycle.class).isRunning()).isTrue();
            context.close();
            assertThat(bridge.state()).isEqualTo(PgBridge.State.CLOSED);
        });
        runner.withPropertyValues("pgbridge.pipeline.delivery-threads=0").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("delivery-threads");
        });
        runner.withPropertyValues("pgbridge.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PgBridge.class));
    }

    @Test
    void theOutboxSchemaIsInstalledThroughTheApplicationsFlywayOnSpringBoot35() {
        String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        String pgbridge = "pgbridge_fw3_" + suffix;
        String app = "app_fw3_" + suffix;
        JdbcTemplate jdbc = new JdbcTemplate(TestServices.postgresDataSource());
        try {
            runner.withConfiguration(AutoConfigurations.of(FlywayAutoConfiguration.class))
                    .withPropertyValues(
                            "pgbridge.routes=orders->queue:orders",
                            "pgbridge.sources=outbox",
                            "pgbridge.outbox.schema=" + pgbridge,
                            "pgbridge.outbox.stream-id="
                                    + ThreadLocalRandom.current().nextLong(1_000_000, 1L << 40),
                            "spring.flyway.locations=classpath:flyway-none",
                            "spring.flyway.schemas=" + app)
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(context.getBean(Flyway.class)
                                        .getConfiguration()
                                        .getCallbacks())
                                .extracting(Callback::getCallbackName)
                                .contains("pgbridge-schema");
                        assertThat(context.getBean(PgBridge.class).state()).isEqualTo(PgBridge.State.RUNNING);
                        assertThat(jdbc.queryForList(
                                        "SELECT version FROM " + pgbridge + ".pgbridge_schema_history"
                                                + " WHERE success AND version IS NOT NULL",
                                        String.class))
                                .hasSize(PgBridgeSchema.scripts(PgBridgeSchema.DEFAULT_SCHEMA)
                                        .size());
                    });
        } finally {
            jdbc.execute("DROP SCHEMA IF EXISTS " + app + " CASCADE");
            jdbc.execute("DROP SCHEMA IF EXISTS " + pgbridge + " CASCADE");
        }
    }
}
