package io.pgbridge.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import io.pgbridge.spi.PublishResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@link KafkaSink#send}'s invariant over every interleaving jqwik tries of sends and the broker's answers: the result
 * confirms exactly the leading events whose sends were made and acknowledged. An answer may come at once (before the
 * next send is made: the normal case on a fast broker, which an earlier version took for a failure and stopped
 * sending, yet confirmed the whole batch) or later, in order, as the producer completes a partition's sends.
 */
class KafkaSinkSendPropertyTest {
    enum Answer {
        ACKNOWLEDGED,
        FAILED,
        TOO_LARGE
    }

    /** One event's send: refused by {@code send()}, or made and answered, at once or with later sends. */
    record Step(boolean refused, Answer answer, boolean answeredAtOnce) {}

    @Property(tries = 2000)
    void confirmsExactlyTheLeadingAcknowledgedSends(@ForAll("plans") List<Step> plan) throws Exception {
        List<Event> events = IntStream.range(0, plan.size())
                .mapToObj(i -> Event.builder()
                        .id("e" + i)
                        .source("wal")
                        .channel("people")
                        .payload(("event " + i).getBytes(StandardCharsets.UTF_8))
                        .build())
                .collect(Collectors.toList());
        PlannedProducer producer = new PlannedProducer(plan);

        PublishResult result = KafkaSink.send(producer, "people", events, "127.0.0.1:9092", Duration.ofSeconds(5));

        int expected = leadingAcknowledged(plan);
        assertThat(result.confirmed()).as("confirmed of %s: %s", plan, result).isEqualTo(expected);
        assertThat(result.isFailure()).as("failure of %s: %s", plan, result).isEqualTo(expected < plan.size());
        if (expected < plan.size()) {
            Step first = plan.get(expected);
            assertThat(result.isPermanent())
                    .as("dead-lettered only when the broker can never take the record: %s", result)
                    .isEqualTo(!first.refused() && first.answer() == Answer.TOO_LARGE);
        }
        assertThat(producer.history().stream()
                        .limit(expected)
                        .map(r -> new String(r.value(), StandardCharsets.UTF_8))
                        .collect(Collectors.toList()))
                .as("the confirmed events were sent, in order")
                .containsExactlyElementsOf(events.subList(0, expected).stream()
                        .map(Event::payloadAsString)
                        .collect(Collectors.toList()));
    }

    private static int leadingAcknowledged(List<Step> plan) {
        int i = 0;
        while (i < plan.size() && !plan.get(i).refused() && plan.get(i).answer() == Answer.ACKNOWLEDGED) {
            i++;
        }
        return i;
    }

    @Provide
    Arbitrary<List<Step>> plans() {
        Arbitrary<Step> step = Combinators.combine(
                        Arbitraries.integers().between(0, 19).map(n -> n == 0),
                        Arbitraries.frequency(
                                Tuple.of(17, Answer.ACKNOWLEDGED),
                                Tuple.of(2, Answer.FAILED),
                                Tuple.of(1, Answer.TOO_LARGE)),
                        Arbitraries.of(true, false))
                .as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(40);
    }

    /**
     * A producer that follows the plan: {@code send()} throws for a refused step (answering what is pending first);
     * otherwise the record is added, and the pending sends are answered, in order, at an at-once step and at the last.
     */
    private static final class PlannedProducer extends MockProducer<byte[], byte[]> {
        private final List<Step> plan;
        private final ArrayDeque<Answer> pending = new ArrayDeque<>();
        private int made;

        PlannedProducer(List<Step> plan) {
            super(false, null, new ByteArraySerializer(), new ByteArraySerializer());
            this.plan = plan;
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            Step step = plan.get(made);
            if (step.refused()) {
                answerPending();
                throw new KafkaException("no metadata for topic people within max.block.ms");
            }
            Future<RecordMetadata> send = super.send(record, callback);
            pending.add(step.answer());
            made++;
            if (step.answeredAtOnce() || made == plan.size()) {
                answerPending();
            }
            return send;
        }

        private void answerPending() {
            for (Answer a = pending.poll(); a != null; a = pending.poll()) {
                switch (a) {
                    case ACKNOWLEDGED -> completeNext();
                    case FAILED -> errorNext(new NetworkException("connection to the leader lost"));
                    case TOO_LARGE -> errorNext(new RecordTooLargeException("larger than max.message.bytes"));
                }
            }
        }
    }
}
