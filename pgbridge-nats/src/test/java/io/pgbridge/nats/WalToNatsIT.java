package io.pgbridge.nats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.api.MessageInfo;
import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.WalOutage;
import io.pgbridge.testkit.TestServices;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * WAL changes to a JetStream stream while the NATS server is stopped for a while: the replication slot does not
 * advance past what the stream has not acknowledged, and afterwards the stream holds every change exactly once (the
 * changes published again after the outage fall in the duplicate window), in commit order.
 */
class WalToNatsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private WalOutage wal;
    private String stream;
    private String subject;

    @BeforeEach
    void setUp() throws Exception {
        wal = WalOutage.install("wal_nats_");
        stream = wal.name().toUpperCase();
        subject = "pgbridge.it." + wal.name();
        NatsStreams.create(stream, subject);
    }

    @AfterEach
    void tearDown() throws Exception {
        wal.close();
        NatsStreams.delete(stream);
    }

    @Test
    void natsStoppedMidStreamLosesNothingAndDuplicatesNothing() throws Exception {
        try (PgBridge bridge = wal.builder(TestServices.natsUrl(), "subject:" + subject)
                .setting("nats.publish-timeout-ms", "3000")
                .setting("nats.reconnect-wait-ms", "200")
                .build()) {
            bridge.start();
            wal.insertThroughAnOutage(bridge, TestServices.Service.NATS);
            wal.awaitDelivered(bridge, WalOutage.ROWS);
        }

        List<Integer> ids = new ArrayList<>();
        for (MessageInfo m : NatsStreams.readAll(stream)) {
            ids.add(JSON.readTree(m.getData()).get("new").get("id").asInt());
            assertThat(m.getHeaders().getFirst("Nats-Msg-Id"))
                    .as("message id = event id")
                    .isEqualTo(m.getHeaders().getFirst(NatsSink.HEADER_EVENT_ID));
        }
        assertThat(ids)
                .as("the stream holds every change exactly once, in commit order")
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, WalOutage.ROWS).boxed().toList());
    }
}
