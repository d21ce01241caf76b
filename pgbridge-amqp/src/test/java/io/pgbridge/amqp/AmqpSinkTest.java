package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import io.pgbridge.ConfigurationException;
import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class AmqpSinkTest {
    private final AmqpSink sink = new AmqpSink(
            AmqpSinkConfig.from(TestSinkConfigs.of("amqp://h", Map.of("amqp.delivery-mode", "1"))),
            Executors.defaultThreadFactory());

    private static Event.Builder event() {
        return Event.builder().id("id-1").source("notify").channel("events").payload("hello");
    }

    @Test
    void targetNamesAreAmqpShortStrings() {
        assertThat(sink.targetKinds()).containsExactlyInAnyOrder("exchange", "queue");
        assertThat(sink.validateTarget(Target.exchange("x".repeat(255))))
                .as("255 bytes")
                .isEmpty();
        assertThat(sink.validateTarget(Target.queue("q".repeat(256))))
                .as("256 bytes")
                .singleElement()
                .asString()
                .contains("queue name", "256 bytes", "at most 255");
        assertThat(sink.validateTarget(Target.exchange("é".repeat(128))))
                .as("128 two-byte characters are 256 bytes")
                .hasSize(1);
    }

    @Test
    void propertiesCarryIdModeTypeTimeAndHeaders() {
        Instant commit = Instant.parse("2026-11-22T10:15:30Z");
        AMQP.BasicProperties p = sink.properties(event().routingKey("signup")
                .contentType("application/json")
                .commitTime(commit)
                .header("tenant", "acme")
                .header("pgbridge-channel", "spoofed")
                .build());

        assertThat(p.getMessageId()).isEqualTo("id-1");
        assertThat(p.getDeliveryMode()).as("from delivery-mode").isEqualTo(1);
        assertThat(p.getContentType()).isEqualTo("application/json");
        assertThat(p.getTimestamp()).as("commit time").isEqualTo(Date.from(commit));
        assertThat(p.getHeaders())
                .as("event headers plus pgbridge's own, which win")
                .containsEntry("tenant", "acme")
                .containsEntry("pgbridge-source", "notify")
                .containsEntry("pgbridge-channel", "events")
                .containsEntry("pgbridge-routing-key", "signup");
    }

    @Test
    void propertiesWithoutOptionalParts() {
        AMQP.BasicProperties p = sink.properties(event().build());

        assertThat(p.getContentType()).as("default content type").isEqualTo("application/octet-stream");
        assertThat(p.getTimestamp()).as("no commit time").isNull();
        assertThat(p.getHeaders()).doesNotContainKey("pgbridge-routing-key");
    }

    @Test
    void shortStringsOverTheLimitAreProblems() {
        assertThat(AmqpSink.problem(event().build(), "k".repeat(255))).isNull();
        assertThat(AmqpSink.problem(event().build(), "k".repeat(256)))
                .contains("event id-1", "routing key is 256 bytes", "at most 255");
        assertThat(AmqpSink.problem(event().header("h".repeat(300), "v").build(), "k"))
                .contains("header name is 300 bytes");
    }

    @Test
    void aRoutingKeyOverTheLimitIsRejectedForGood() throws InterruptedException {
        Event tooLong = event().routingKey("k".repeat(256)).build();

        PublishResult result = sink.publish(Target.exchange("amq.topic"), List.of(tooLong, event().build()));

        assertThat(result.isPermanent()).as("permanent rejection, not a retry").isTrue();
        assertThat(result.confirmed()).isZero();
        assertThat(result.reason()).contains("routing key is 256 bytes");
    }

    @Test
    void aQueueTargetIgnoresTheEventRoutingKey() throws InterruptedException {
        Event longKey = event().routingKey("k".repeat(256)).build();

        PublishResult result = sink.publish(Target.queue("jobs"), List.of(longKey));

        assertThat(result.isPermanent()).as("the queue name is the routing key").isFalse();
        assertThat(result.reason()).as("not started, so retried").contains("not started");
    }

    @Test
    void closedSinkFailsPublishesForRetry() throws InterruptedException {
        sink.close();
        sink.close();

        PublishResult result = sink.publish(Target.queue("jobs"), List.of(event().build()));

        assertThat(result.isFailure()).isTrue();
        assertThat(result.isPermanent()).isFalse();
        assertThat(result.reason()).contains("closed");
    }

    @Test
    void builderSelectsTheProviderByScheme() {
        PgBridge.Builder builder = PgBridge.builder()
                .postgres("postgresql://app@localhost:5432/app")
                .upstream("amqps://app:topsecret@rabbit.example/prod")
                .routes("events->exchange:amq.topic, jobs->queue:" + "q".repeat(256) + ", logs->topic:logs");

        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("problems")
                        .hasSize(2)
                        .anySatisfy(p -> assertThat(p).contains("queue name", "256 bytes"))
                        .anySatisfy(p -> assertThat(p).contains("'topic' is unknown to sink amqp", "exchange, queue")))
                .hasMessageNotContaining("topsecret");
    }

    @Test
    void builderReportsAmqpSettingProblems() {
        PgBridge.Builder builder = PgBridge.builder()
                .postgres("postgresql://app@localhost:5432/app")
                .upstream("amqp://localhost")
                .routes("events->exchange:amq.topic")
                .setting("delivery-mode", "0");

        assertThatThrownBy(builder::build)
                .as("the former key still reaches the setting, which is named by its current key")
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_AMQP_DELIVERY_MODE='0': must be between 1 and 2");
    }
}
