package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The outbox in polling mode: the shared contract, plus several bridge instances on one stream. */
class PollingOutboxIT extends OutboxBridgeContract {

    @Override
    Map<String, String> modeSettings() {
        return Map.of("outbox.mode", "polling", "outbox.poll-interval-ms", "200", "outbox.batch-size", "50");
    }

    @Override
    void awaitOutboxDrained() {
        await().atMost(WAIT).until(() -> count("select count(*) from " + db.schema + ".events") == 0);
    }

    /**
     * A claim whose rows lie in three partitions (the default one, today's, tomorrow's; interleaved in id order) is
     * delivered once and deleted whole: a statement on claimed rows that missed a partition would leave rows in the
     * table, to be claimed and delivered again.
     */
    @Test
    void aClaimSpanningPartitionsIsDeliveredOnceAndDeletedWhole() throws Exception {
        db.execute(
                "select " + db.schema + ".create_partitions(2); insert into " + db.schema // one transaction: one now()
                        + ".events (channel, payload, created_at) select 'events', jsonb_build_object('n', g),"
                        + " now() + make_interval(days => g % 3 - 1) from generate_series(1, 30) g");
        assertThat(count("select count(distinct tableoid) from " + db.schema + ".events"))
                .as("partitions holding the 30 events")
                .isEqualTo(3);
        InMemorySink sink = new InMemorySink();
        start(sink);
        sink.await(30, WAIT);
        awaitOutboxDrained();
        assertThat(sink.events())
                .extracting(Event::payloadAsString)
                .as("the events delivered, each once, in id order")
                .containsExactlyElementsOf(IntStream.rangeClosed(1, 30)
                        .mapToObj(n -> "{\"n\": " + n + "}")
                        .toList());
    }

    @Test
    void twoBridgeInstancesDeliverEveryEventExactlyOnce() throws Exception {
        InMemorySink first = new InMemorySink();
        InMemorySink second = new InMemorySink();
        start(first);
        start(second);
        int producers = 4;
        int perProducer = 250;
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean failed = new AtomicBoolean();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            Thread t = new Thread(() -> {
                try (Connection c = db.connect();
                        Statement st = c.createStatement()) {
                    c.setAutoCommit(false);
                    for (int i = 0; i < perProducer; i++) {
                        send(st, "events", "{\"p\": " + producer + ", \"i\": " + i + "}");
                        if (i % 10 == 9) {
                            c.commit();
                        }
                    }
                    c.commit();
                } catch (SQLException e) {
                    failed.set(true);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(WAIT.toMillis());
        }
        assertThat(failed).as("a producer failed").isFalse();
        int total = producers * perProducer;
        await().atMost(WAIT).until(() -> first.events().size() + second.events().size() >= total);
        awaitOutboxDrained();
        Set<String> ids = new HashSet<>();
        List<String> duplicates = new ArrayList<>();
        for (InMemorySink sink : List.of(first, second)) {
            for (Event e : sink.events()) {
                if (!ids.add(e.id())) {
                    duplicates.add(e.id());
                }
            }
        }
        assertThat(duplicates).as("events delivered twice").isEmpty();
        assertThat(ids).as("distinct events delivered").hasSize(total);
        assertThat(first.events()).as("events delivered by the first instance").isNotEmpty();
        assertThat(second.events())
                .as("events delivered by the second instance")
                .isNotEmpty();
    }
}
