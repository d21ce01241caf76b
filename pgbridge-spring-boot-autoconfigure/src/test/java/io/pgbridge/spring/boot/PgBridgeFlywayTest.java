package io.pgbridge.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.callback.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The outbox schema through the application's Flyway (Spring Boot's Flyway auto-configuration over a real
 * PostgreSQL): pgbridge's scripts run before the application's migrations, in their own schema and history table;
 * without Flyway the bridge's own installer runs; {@code pgbridge.outbox.install-schema=false} turns both off.
 */
class PgBridgeFlywayTest {
    private static final List<String> SHIPPED = shippedVersions();

    private final String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    private final String pgbridge = "pgbridge_fw_" + suffix;
    private final String app = "app_fw_" + suffix;
    private final JdbcTemplate jdbc = new JdbcTemplate(TestServices.postgresDataSource());

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FlywayAutoConfiguration.class, PgBridgeAutoConfiguration.class))
            .withBean(DataSource.class, TestServices::postgresDataSource)
            .withBean(InMemorySink.class, InMemorySink::new)
            .withPropertyValues(
                    "pgbridge.postgres.uri=" + TestServices.postgresUrl(),
                    "pgbridge.routes=orders->queue:orders",
                    "pgbridge.sources=outbox",
                    "pgbridge.outbox.schema=" + pgbridge,
                    // a stream of its own: no other bridge polling this database claims its events
                    "pgbridge.outbox.stream-id=" + ThreadLocalRandom.current().nextLong(1_000_000, 1L << 40),
                    "spring.flyway.locations=classpath:flyway-app",
                    "spring.flyway.schemas=" + app,
                    "spring.flyway.placeholders.app=" + app,
                    "spring.flyway.placeholders.pgbridge=" + pgbridge);

    @AfterEach
    void dropSchemas() {
        jdbc.execute("DROP SCHEMA IF EXISTS " + app + " CASCADE");
        jdbc.execute("DROP SCHEMA IF EXISTS " + pgbridge + " CASCADE");
    }

    @Test
    void theApplicationsFlywayInstallsTheSchemaBeforeItsOwnMigrationsWithAHistoryOfItsOwn() {
        runner.run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(PgBridgeFlywayCallback.class);
            assertThat(context.getBean(PgBridgeFlywayCallback.class).migrated())
                    .as("migrated through the application's Flyway")
                    .isTrue();
            assertThat(context.getBean(Flyway.class).getConfiguration().getCallbacks())
                    .as("Spring Boot registered the callback with the application's Flyway")
                    .extracting(Callback::getCallbackName)
                    .containsOnlyOnce(PgBridgeFlywayCallback.NAME);
            assertThat(context.getBean(PgBridge.class).state()).isEqualTo(PgBridge.State.RUNNING);
            assertThat(versions(pgbridge + ".pgbridge_schema_history"))
                    .as("pgbridge's scripts in pgbridge's history")
                    .containsExactlyElementsOf(SHIPPED);
            assertThat(versions(app + ".flyway_schema_history"))
                    .as("the application's history holds its own migration only (its view over the pgbridge"
                            + " schema proves the order)")
                    .containsExactly("1");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM " + app + ".order_events", Long.class))
                    .isZero();

            context.getBean(OutboxPublisher.class).send("orders", "{\"order\": 1}", null, Map.of());
            InMemorySink sink = context.getBean(InMemorySink.class);
            sink.await(1, Duration.ofSeconds(10));
            assertThat(sink.payloads()).containsExactly("{\"order\": 1}");
        });
    }

    @Test
    void withoutFlywayTheBridgeInstallsTheSchemaItselfBeforeItStarts() {
        runner.withClassLoader(new FilteredClassLoader(Flyway.class)).run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(PgBridgeFlywayCallback.class);
            assertThat(context.getBean(PgBridge.class).state()).isEqualTo(PgBridge.State.RUNNING);
            assertThat(versions(pgbridge + ".pgbridge_schema_history")).containsExactlyElementsOf(SHIPPED);
        });
    }

    @Test
    void aFlywayClassWithoutAFlywayBeanLeavesTheInstallationToTheBridge() {
        runner.withPropertyValues("spring.flyway.enabled=false").run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(Flyway.class);
            assertThat(context).doesNotHaveBean(PgBridgeFlywayCallback.class);
            assertThat(context.getBean(PgBridge.class).state()).isEqualTo(PgBridge.State.RUNNING);
            assertThat(versions(pgbridge + ".pgbridge_schema_history")).containsExactlyElementsOf(SHIPPED);
        });
    }

    @Test
    void installSchemaFalseLeavesTheSchemaToTheApplication() {
        runner.withPropertyValues(
                        "pgbridge.outbox.install-schema=false",
                        "pgbridge.sources=notify",
                        "spring.flyway.locations=classpath:flyway-none")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(Flyway.class);
                    assertThat(context).doesNotHaveBean(PgBridgeFlywayCallback.class);
                    assertThat(schemaExists(pgbridge)).as("not installed").isFalse();
                });
    }

    @Test
    void withoutTheOutboxSourceTheCallbackDoesNothing() {
        runner.withPropertyValues("pgbridge.sources=notify", "spring.flyway.locations=classpath:flyway-none")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(PgBridgeFlywayCallback.class);
                    assertThat(context.getBean(PgBridgeFlywayCallback.class).migrated())
                            .isFalse();
                    assertThat(schemaExists(pgbridge)).isFalse();
                });
    }

    /** The versions of the migrations pgbridge-sql ships ({@code V<n>__*.sql}), in order. */
    private static List<String> shippedVersions() {
        return PgBridgeSchema.scripts(PgBridgeSchema.DEFAULT_SCHEMA).keySet().stream()
                .map(file -> file.substring(1, file.indexOf("__")))
                .toList();
    }

    /** The versions applied, without the row of Flyway's own schema creation (no version). */
    private List<String> versions(String historyTable) {
        return jdbc.queryForList(
                "SELECT version FROM " + historyTable
                        + " WHERE success AND version IS NOT NULL ORDER BY installed_rank",
                String.class);
    }

    private boolean schemaExists(String schema) {
        return Boolean.TRUE.equals(jdbc.queryForObject(
                "SELECT exists (SELECT FROM pg_namespace WHERE nspname = ?)", Boolean.class, schema));
    }
}
