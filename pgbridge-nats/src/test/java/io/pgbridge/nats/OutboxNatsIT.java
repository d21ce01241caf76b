package io.pgbridge.nats;

import static org.assertj.core.api.Assertions.assertThat;

import io.nats.client.api.MessageInfo;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import io.pgbridge.testkit.TestServices;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The outbox to a JetStream stream with the NATS server stopped for a while under a steady stream of
 * {@code pgbridge.send}: afterwards the stream holds every committed event exactly once (the duplicate window drops
 * what was published again), in commit order, with its routing key and trace context headers.
 */
class OutboxNatsIT {
    private OutboxOutage outbox;
    private String stream;
    private String subject;

    @BeforeEach
    void setUp() throws Exception {
        outbox = OutboxOutage.install("pgb_nats_");
        stream = outbox.schema().toUpperCase();
        subject = "pgbridge.it." + outbox.schema();
        NatsStreams.create(stream, subject);
    }

    @AfterEach
    void cleanUp() throws Exception {
        NatsStreams.delete(stream);
        outbox.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"streaming", "polling"})
    void natsStoppedUnderASteadyStreamLosesNothingAndDuplicatesNothing(String mode) throws Exception {
        try (PgBridge bridge = outbox.builder(TestServices.natsUrl(), "events->subject:" + subject, mode)
                .setting("nats.publish-timeout-ms", "3000")
                .setting("nats.reconnect-wait-ms", "200")
                .build()) {
            bridge.start();
            outbox.sendThroughAnOutage(bridge, TestServices.Service.NATS);
        }

        List<Integer> seqs = new ArrayList<>();
        for (MessageInfo m : NatsStreams.readAll(stream)) {
            int seq = OutboxOutage.seq(m.getData());
            seqs.add(seq);
            assertThat(m.getHeaders().getFirst(NatsSink.HEADER_ROUTING_KEY))
                    .as("routing key header")
                    .isEqualTo(OutboxOutage.routingKey(seq));
            assertThat(m.getHeaders().getFirst("traceparent"))
                    .as("trace context header")
                    .isEqualTo(OutboxOutage.traceparent(seq));
        }
        assertThat(seqs)
                .as("the stream holds every committed event exactly once, in commit order")
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, OutboxOutage.TOTAL).boxed().toList());
    }
}
