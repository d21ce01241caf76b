package io.pgbridge.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.micrometer.tracing.test.simple.SimpleTracer;
import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.OutboxOptions;
import io.pgbridge.PgBridge;
import io.pgbridge.Target;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Every condition of the auto-configuration, with a NOTIFY route on the test PostgreSQL (LISTEN only: no slot, no
 * schema), so that the bridge really starts and stops with each context.
 */
class PgBridgeAutoConfigurationTest {
    private static final String CHANNEL = "pgbridge_spring_test";

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(PgBridgeAutoConfiguration.class, PgBridgeHealthAutoConfiguration.class))
            .withPropertyValues(
                    "pgbridge.postgres.uri=" + TestServices.postgresUrl(), "pgbridge.routes=" + CHANNEL + "->queue:q");

    @Test
    void propertiesBindWithRelaxedNamesAndTheBridgeRunsWithTheContext() {
        runner.withPropertyValues(
                        "pgbridge.pipeline.deliveryThreads=2",
                        "pgbridge.pipeline.shutdown_timeout=5s",
                        "pgbridge.outbox.mode=streaming",
                        "pgbridge.notify.poll-interval=100",
                        "pgbridge.settings[health.lag-threshold-bytes]=1000")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(PgBridge.class);
                    PgBridgeProperties p = context.getBean(PgBridgeProperties.class);
                    assertThat(p.getPipeline().getDeliveryThreads()).isEqualTo(2);
                    assertThat(p.getPipeline().getShutdownTimeout()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(p.getOutbox().getMode()).isEqualTo(OutboxOptions.Mode.STREAMING);
                    assertThat(p.getNotify().getPollInterval()).isEqualTo(Duration.ofMillis(100));
                    PgBridge bridge = context.getBean(PgBridge.class);
                    assertThat(bridge.state()).isEqualTo(PgBridge.State.RUNNING);
                    assertThat(bridge.health().lagThresholdBytes()).isEqualTo(1000);
                    assertThat(context.getBean(PgBridgeLifecycle.class).isRunning())
                            .isTrue();
                    // no DataSource bean: no publisher
                    assertThat(context).doesNotHaveBean(OutboxPublisher.class);
                    context.close();
                    assertThat(bridge.state()).isEqualTo(PgBridge.State.CLOSED);
                });
    }

    @Test
    void aValueOutOfRangeFailsTheStartNamingTheProperty() {
        runner.withPropertyValues("pgbridge.pipeline.delivery-threads=0").run(context -> {
            assertThat(context).hasFailed();
            assertThat(allMessages(context.getStartupFailure()))
                    .contains("pgbridge.pipeline.delivery-threads")
                    .contains("deliveryThreads (delivery.threads) must be between 1 and 256, was 0");
        });
        runner.withPropertyValues("pgbridge.wal.read-timeout=500ms").run(context -> {
            assertThat(context).hasFailed();
            assertThat(allMessages(context.getStartupFailure()))
                    .contains("pgbridge.wal.read-timeout")
                    .contains("readTimeout (wal.read-timeout-ms) must be between 1000 ms and 3600000 ms, was 500 ms");
        });
        runner.withPropertyValues("pgbridge.routes=orders").run(context -> {
            assertThat(context).hasFailed();
            assertThat(allMessages(context.getStartupFailure()))
                    .contains("pgbridge.routes[0]")
                    .contains("channel->kind:name");
        });
    }

    @Test
    void disabledCreatesNothing() {
        runner.withPropertyValues("pgbridge.enabled=false")
                .withBean(DataSource.class, TestServices::postgresDataSource)
                .run(context -> assertThat(context)
                        .hasNotFailed()
                        .doesNotHaveBean(PgBridge.class)
                        .doesNotHaveBean(PgBridgeLifecycle.class)
                        .doesNotHaveBean(OutboxPublisher.class)
                        .doesNotHaveBean(PgBridgeHealthIndicator.class));
    }

    @Test
    void aUserBridgeReplacesTheAutoConfiguredOneAndRunsWithTheContext() {
        runner.withUserConfiguration(UserBridge.class).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(PgBridge.class);
            PgBridge bridge = context.getBean(PgBridge.class);
            assertThat(bridge).isSameAs(context.getBean(UserBridge.class).bridge);
            assertThat(bridge.state()).isEqualTo(PgBridge.State.RUNNING);
            assertThat(context).hasSingleBean(PgBridgeHealthIndicator.class);
        });
    }

    @Test
    void withoutSinkBeanOrUpstreamEventsGoToTheLoggingSink() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            PgBridge bridge = context.getBean(PgBridge.class);
            notify(CHANNEL, "logged");
            await().atMost(Duration.ofSeconds(10)).until(() -> bridge.stats().delivered() >= 1);
        });
    }

    @Test
    void sinkDeadLetterHandlerAndMeterRegistryBeansAreUsed() {
        runner.withUserConfiguration(SinkAndRegistry.class)
                .withPropertyValues("pgbridge.name=orders")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    InMemorySink sink = context.getBean(InMemorySink.class);
                    sink.rejectWhen(e -> e.payloadAsString().equals("refused"));
                    notify(CHANNEL, "refused");
                    notify(CHANNEL, "to-the-sink");
                    sink.await(1, Duration.ofSeconds(10));
                    assertThat(sink.payloads()).containsExactly("to-the-sink");
                    List<String> deadLetters = context.getBean(SinkAndRegistry.class).deadLetters;
                    await().atMost(Duration.ofSeconds(10)).until(() -> deadLetters.contains("refused"));
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.getMeters())
                            .anySatisfy(m -> assertThat(m.getId().getName()).startsWith("pgbridge"));
                    assertThat(registry.getMeters())
                            .filteredOn(m -> m.getId().getName().startsWith("pgbridge"))
                            .as("pgbridge.name is the bridge tag")
                            .allSatisfy(
                                    m -> assertThat(m.getId().getTag("bridge")).isEqualTo("orders"));
                });
    }

    @Test
    void closingTheContextDrainsAnEventInFlight() {
        runner.withUserConfiguration(Gated.class).run(context -> {
            assertThat(context).hasNotFailed();
            GatedSink sink = context.getBean(GatedSink.class);
            PgBridge bridge = context.getBean(PgBridge.class);
            notify(CHANNEL, "in-flight");
            assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<List<String>> deliveredWhenClosed = CompletableFuture.supplyAsync(() -> {
                context.close();
                return sink.delegate.payloads();
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> bridge.state() == PgBridge.State.STOPPING);
            assertThat(deliveredWhenClosed).isNotDone();
            sink.release.countDown();
            assertThat(deliveredWhenClosed.get(20, TimeUnit.SECONDS))
                    .as("the context's close returned only once the event in flight was confirmed")
                    .containsExactly("in-flight");
            assertThat(bridge.state()).isEqualTo(PgBridge.State.CLOSED);
        });
    }

    @Test
    void aSchemeWhoseSinkModuleIsMissingFailsTheStartSayingSo() {
        runner.withPropertyValues("pgbridge.upstream=mqtt://127.0.0.1:1").run(context -> {
            assertThat(context).hasFailed();
            assertThat(allMessages(context.getStartupFailure())).contains("mqtt");
        });
    }

    @Test
    void theHealthIndicatorFollowsTheBridgeAndBacksOffWithoutHealthSupportOrWhenDisabled() {
        runner.run(context -> {
            HealthIndicator indicator = context.getBean("pgbridgeHealthIndicator", HealthIndicator.class);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> indicator.health().getStatus().equals(Status.UP));
            assertThat(indicator.health().getDetails()).containsKeys("state", "sources", "routes");
            context.getBean(PgBridge.class).close();
            assertThat(indicator.health().getStatus()).isEqualTo(Status.DOWN);
            assertThat(indicator.health().getDetails().get("problems").toString())
                    .contains("CLOSED");
        });
        runner.withClassLoader(new FilteredClassLoader(HealthIndicator.class))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PgBridgeHealthIndicator.class));
        runner.withPropertyValues("management.health.pgbridge.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PgBridgeHealthIndicator.class));
    }

    @Test
    void anOutboxPublisherOverTheApplicationsDataSource() {
        runner.withBean(DataSource.class, TestServices::postgresDataSource)
                .withPropertyValues("pgbridge.outbox.schema=events_out")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(OutboxPublisher.class);
                    assertThat(context.getBean(OutboxPublisher.class).toString())
                            .contains("events_out.send(");
                });
    }

    @Test
    void outboxEventsCarryTheCurrentTraceContextAndTheCallersHeadersWin() {
        long streamId = ThreadLocalRandom.current().nextLong(1_000_000, 1L << 40);
        runner.withBean(DataSource.class, TestServices::postgresDataSource)
                .withUserConfiguration(Tracing.class)
                .withPropertyValues("pgbridge.outbox.stream-id=" + streamId)
                .run(context -> {
                    DataSource ds = context.getBean(DataSource.class);
                    PgBridgeSchema.migrate(ds);
                    OutboxPublisher outbox = context.getBean(OutboxPublisher.class);
                    SimpleTracer tracer = context.getBean(SimpleTracer.class);
                    Span span = tracer.nextSpan().name("place order").start();
                    long traced;
                    try (Tracer.SpanInScope scope = tracer.withSpan(span)) {
                        traced = outbox.send("orders", "{}", null, Map.of("tenant", "t1", "x-mine", "caller"));
                    } finally {
                        span.end();
                    }
                    long untraced = outbox.send("orders", "{}", null, null);
                    JdbcTemplate jdbc = new JdbcTemplate(ds);
                    String sql = "select headers::text from pgbridge.events where id = ? and stream_id = ?";
                    assertThat(jdbc.queryForObject(sql, String.class, traced, streamId))
                            .contains("\"traceparent\": \"00-" + span.context().traceId() + "-"
                                    + span.context().spanId() + "-01\"")
                            .contains("\"tenant\": \"t1\"")
                            .contains("\"x-mine\": \"caller\"");
                    assertThat(jdbc.queryForObject(sql, String.class, untraced, streamId))
                            .as("outside a span: no trace headers")
                            .isNull();
                    // no bridge reads this stream: leave no undelivered rows that would keep their partition
                    jdbc.update("delete from pgbridge.events where stream_id = ?", streamId);
                });
    }

    @Test
    void configurationMetadataIsGeneratedForTheProperties() throws Exception {
        try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("spring-boot-configuration-processor ran").isNotNull();
            String metadata = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(metadata)
                    .contains("\"pgbridge.pipeline.delivery-threads\"")
                    .contains("\"pgbridge.outbox.stream-id\"")
                    .contains("\"pgbridge.wal.slot\"")
                    .contains("\"pgbridge.wal.read-timeout\"")
                    .contains("\"pgbridge.notify.poll-interval\"")
                    .doesNotContain("{@code");
        }
    }

    private static String allMessages(Throwable t) {
        StringBuilder s = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            s.append(c.getMessage()).append('\n');
        }
        return s.toString();
    }

    private static void notify(String channel, String payload) throws Exception {
        try (Connection c = TestServices.postgresConnection();
                Statement s = c.createStatement()) {
            s.execute("select pg_notify('" + channel + "', '" + payload + "')");
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserBridge {
        final PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes(CHANNEL + "->queue:mine")
                .build();

        @Bean
        PgBridge myBridge() {
            return bridge;
        }
    }

    /** Holds every publish until released. */
    static final class GatedSink implements Sink {
        final InMemorySink delegate = new InMemorySink();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String name() {
            return "gated";
        }

        @Override
        public Set<String> targetKinds() {
            return delegate.targetKinds();
        }

        @Override
        public void start() {}

        @Override
        public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
            entered.countDown();
            release.await();
            return delegate.publish(target, events);
        }

        @Override
        public void close() {}
    }

    @Configuration(proxyBeanMethods = false)
    static class Gated {
        @Bean
        GatedSink gatedSink() {
            return new GatedSink();
        }
    }

    /** Micrometer Tracing's test tracer and a W3C-style propagator that also writes x-mine (the caller's wins). */
    @Configuration(proxyBeanMethods = false)
    static class Tracing {
        @Bean
        SimpleTracer tracer() {
            return new SimpleTracer();
        }

        @Bean
        Propagator propagator() {
            return new Propagator() {
                @Override
                public List<String> fields() {
                    return List.of("traceparent", "x-mine");
                }

                @Override
                public <C> void inject(TraceContext context, C carrier, Setter<C> setter) {
                    setter.set(carrier, "traceparent", "00-" + context.traceId() + "-" + context.spanId() + "-01");
                    setter.set(carrier, "x-mine", "propagator");
                }

                @Override
                public <C> Span.Builder extract(C carrier, Getter<C> getter) {
                    throw new UnsupportedOperationException();
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class SinkAndRegistry {
        final List<String> deadLetters = new CopyOnWriteArrayList<>();

        @Bean
        DeadLetterHandler deadLetterHandler() {
            return (event, target, reason) -> deadLetters.add(event.payloadAsString());
        }

        @Bean
        InMemorySink sink() {
            return new InMemorySink();
        }

        @Bean
        MeterRegistry registry() {
            return new SimpleMeterRegistry();
        }
    }
}
