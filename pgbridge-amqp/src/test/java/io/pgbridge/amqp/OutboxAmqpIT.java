package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.GetResponse;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import io.pgbridge.testkit.TestServices;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The outbox to RabbitMQ with the broker stopped for a while under a steady stream of {@code pgbridge.send}: every
 * committed event arrives afterwards, first deliveries in commit order, counted by message id, each with the W3C trace
 * context ({@code traceparent}, {@code tracestate}) it was sent with among its AMQP headers.
 */
class OutboxAmqpIT {
    private OutboxOutage outbox;
    private String queue;

    @BeforeEach
    void setUp() throws Exception {
        outbox = OutboxOutage.install("pgb_amqp_");
        queue = outbox.schema() + "_q";
        AmqpAdmin.run(ch -> ch.queueDeclare(queue, true, false, false, null));
    }

    @AfterEach
    void cleanUp() throws Exception {
        AmqpAdmin.run(ch -> ch.queueDelete(queue));
        outbox.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"streaming", "polling"})
    void rabbitMqStoppedUnderASteadyStreamLosesNothingAndKeepsCommitOrder(String mode) throws Exception {
        try (PgBridge bridge = outbox.builder(TestServices.amqpUrl(), "events->queue:" + queue, mode)
                .setting("amqp.recovery-interval-ms", "500")
                .setting("amqp.confirm-timeout-ms", "5000")
                .build()) {
            bridge.start();
            outbox.sendThroughAnOutage(bridge, TestServices.Service.AMQP);
        }

        Map<String, Integer> firstBySeq = new LinkedHashMap<>();
        List<GetResponse> messages = new ArrayList<>();
        AmqpAdmin.run(ch -> {
            for (GetResponse r = ch.basicGet(queue, true); r != null; r = ch.basicGet(queue, true)) {
                messages.add(r);
            }
        });
        for (GetResponse r : messages) {
            int seq = OutboxOutage.seq(r.getBody());
            firstBySeq.putIfAbsent(r.getProps().getMessageId(), seq);
            Map<String, Object> headers = r.getProps().getHeaders();
            assertThat(String.valueOf(headers.get("traceparent")))
                    .as("traceparent header of event %d", seq)
                    .isEqualTo(OutboxOutage.traceparent(seq));
            assertThat(String.valueOf(headers.get("tracestate")))
                    .as("tracestate header of event %d", seq)
                    .isEqualTo(OutboxOutage.tracestate(seq));
        }
        assertThat(new ArrayList<>(firstBySeq.values()))
                .as(
                        "first delivery of every committed event (by message id), in commit order; %d messages in all",
                        messages.size())
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, OutboxOutage.TOTAL).boxed().toList());
    }
}
