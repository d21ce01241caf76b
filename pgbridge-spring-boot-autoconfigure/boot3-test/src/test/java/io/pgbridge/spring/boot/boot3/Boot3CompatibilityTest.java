package io.pgbridge.spring.boot.boot3;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.PgBridge;
import io.pgbridge.spring.boot.OutboxPublisher;
import io.pgbridge.spring.boot.PgBridgeAutoConfiguration;
import io.pgbridge.spring.boot.PgBridgeHealthAutoConfiguration;
import io.pgbridge.spring.boot.PgBridgeLifecycle;
import io.pgbridge.spring.boot.PgBridgeProperties;
import io.pgbridge.testkit.TestServices;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The auto-configuration, compiled against Spring Boot 4.0, on Spring Boot 3.5: properties bind and validate, the
 * bridge runs with the context, the OutboxPublisher exists, {@code pgbridge.enabled=false} turns it off. The health
 * indicator is Spring Boot 4's ({@code spring-boot-health}) and backs off here.
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
}
