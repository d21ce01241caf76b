package io.pgbridge.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What the NATS sink does with subjects no stream captures, redeliveries and a message the server can never take. */
class NatsSinkIT {

    private static Sink sink(Map<String, String> settings) {
        return new NatsSinkProvider().create(SinkCompatibilityKit.sinkConfig(TestServices.natsUrl(), settings));
    }

    @Test
    void startFailsNamingEveryRouteSubjectNoStreamCaptures() {
        String subject = "pgbridge.nostream." + UUID.randomUUID().toString().replace("-", "");
        try (Sink sink = sink(Map.of())) {
            assertThat(sink.validateTarget(Target.of("subject", subject))).isEmpty();
            assertThatThrownBy(sink::start)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("captures subject '" + subject + "'")
                    .hasMessageContaining("PGBRIDGE_NATS_CORE_SUBJECTS");
        }
    }

    @Test
    void aBatchPublishedAgainIsStoredOnceAndALargeMessageIsRefusedForGood() throws Exception {
        String id = UUID.randomUUID().toString().replace("-", "");
        String stream = "IT_" + id;
        String subject = "pgbridge.it." + id;
        NatsStreams.create(stream, subject);
        try (Sink sink = sink(Map.of("nats.publish-timeout-ms", "5000"))) {
            Target target = Target.of("subject", subject);
            assertThat(sink.validateTarget(target)).isEmpty();
            sink.start();
            List<Event> batch = events(10, 2 * 1024 * 1024);
            PublishResult result = sink.publish(target, batch);
            assertThat(result.confirmed())
                    .as("confirmed before the large one (%s)", result)
                    .isEqualTo(5);
            assertThat(result.isPermanent())
                    .as("the large one goes to the dead-letter handler")
                    .isTrue();
            assertThat(sink.publish(target, batch.subList(6, 10)).confirmed()).isEqualTo(4);
            // a retry after a lost ack publishes the same events again: the duplicate window drops them
            assertThat(sink.publish(target, batch.subList(0, 5)).confirmed()).isEqualTo(5);
            assertThat(NatsStreams.readAll(stream))
                    .as("messages stored: each event once")
                    .hasSize(9);
        } finally {
            NatsStreams.delete(stream);
        }
    }

    @Test
    void targetExistsAsksWhetherAStreamCapturesTheSubject() throws Exception {
        String id = UUID.randomUUID().toString().replace("-", "");
        String stream = "IT_" + id;
        String subject = "pgbridge.it." + id;
        String missing = "pgbridge.nostream." + id;
        NatsStreams.create(stream, subject);
        try (Sink sink = sink(Map.of())) {
            sink.start();
            assertThat(sink.targetExists(Target.of("subject", subject))).isEqualTo(Sink.Existence.EXISTS);
            assertThat(sink.targetExists(Target.of("subject", missing))).isEqualTo(Sink.Existence.MISSING);
        } finally {
            NatsStreams.delete(stream);
        }
        try (Sink sink = sink(Map.of("nats.core-subjects", "true"))) {
            sink.start();
            assertThat(sink.targetExists(Target.of("subject", subject)))
                    .as("the stream is gone; core NATS needs nothing to exist")
                    .isEqualTo(Sink.Existence.CANNOT_CHECK);
        }
    }

    private static List<Event> events(int count, int largeBytes) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] payload = i == 5 ? new byte[largeBytes] : ("event-" + i).getBytes(StandardCharsets.UTF_8);
            events.add(Event.builder()
                    .id(UUID.randomUUID().toString())
                    .source("test")
                    .channel("c")
                    .payload(payload)
                    .build());
        }
        return events;
    }
}
