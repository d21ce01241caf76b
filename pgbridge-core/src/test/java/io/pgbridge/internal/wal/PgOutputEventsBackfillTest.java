package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.InMemorySink;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.internal.pipeline.ManualPipeline;
import io.pgbridge.internal.replication.FlushTracker;
import io.pgbridge.internal.replication.Relation;
import io.pgbridge.internal.replication.TupleData;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.SourceContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How the pgoutput decoder serves a backfill's watermarks: keys changed inside the window are dropped from the chunk,
 * the rest are handed over at the high watermark, and the transaction whose commit LSN is the high watermark's LSN
 * (pgoutput gives a message the LSN where its record ends) still comes after them.
 */
class PgOutputEventsBackfillTest {
    static final Relation T = new Relation(
            16_384,
            "public",
            "t",
            'd',
            List.of(new Relation.Column("id", 20, -1, true), new Relation.Column("v", 20, -1, false)));

    final InMemorySink sink = new InMemorySink();
    final ManualPipeline pipeline =
            new ManualPipeline(List.of(Route.of("public.t", Target.queue("t"))), sink, null, 100, 1_000);
    final FlushTracker tracker = new FlushTracker(0);
    final Emitter emitter;
    final BackfillWindows windows = new BackfillWindows();
    final PgOutputEvents events;

    PgOutputEventsBackfillTest() {
        SourceContext context = pipeline.attach(new EventSource() {
            @Override
            public String name() {
                return "wal";
            }

            @Override
            public void start(SourceContext context) {}

            @Override
            public void acknowledge(long position) {
                tracker.acknowledge(position);
            }

            @Override
            public void stop() {}

            @Override
            public void close() {}
        });
        emitter = new Emitter("wal", context, tracker, Duration.ZERO, new Emitter.Connection() {
            @Override
            public void keepAlive() {}

            @Override
            public boolean reading() {
                return true;
            }
        });
        events = new PgOutputEvents(emitter, SlotMonitor.PREFIX, windows);
    }

    @Test
    void rowsChangedInTheWindowAreDroppedAndTheNextTransactionStillComes() throws Exception {
        windows.expect("run:1", "public.t", List.of("id"), "0/5:b:");
        watermark(1_000, "run:1:low");
        transaction(2_000, "update", 2, 20); // inside the window: row 2's chunk value is stale
        windows.offer("run:1", List.of(row(1, 1), row(2, 2), row(3, 3)));
        watermark(3_000, "run:1:high");
        transaction(3_000, "insert", 4, 40); // its commit LSN is where the high watermark's record ends
        transaction(4_000, "update", 1, 10); // after the window: comes after row 1's chunk value

        List<String> delivered = deliver();
        assertThat(delivered)
                .as("events in order")
                .containsExactly("update 2=20", "r 1=1", "r 3=3", "insert 4=40", "update 1=10");
        assertThat(windows.taken("run:1")).as("position of the chunk's rows").isEqualTo(2_999);
        RowIds ids = new RowIds();
        assertThat(sink.events().stream()
                        .filter(e -> e.payloadAsString().contains("\"op\":\"r\""))
                        .map(io.pgbridge.Event::id))
                .as("the rows' event ids: the backfill's prefix and a hash of table and key, whatever the chunk")
                .containsExactly(
                        ids.id("0/5:b:", "public.t", List.of("1")), ids.id("0/5:b:", "public.t", List.of("3")));
        assertThat(tracker.acknowledged()).as("acknowledged").isEqualTo(4_023);
    }

    private void watermark(long lsn, String content) throws Exception {
        events.message(lsn, false, Backfill.PREFIX, content.getBytes(StandardCharsets.UTF_8));
    }

    private void transaction(long commitLsn, String op, long id, long v) throws Exception {
        events.begin(commitLsn, Instant.EPOCH, 700);
        TupleData row = TupleData.text(new byte[][] {bytes(id), bytes(v)});
        if (op.equals("insert")) {
            events.insert(T, row);
        } else {
            events.update(T, (char) 0, null, row);
        }
        events.commit(commitLsn, commitLsn + 24, Instant.EPOCH);
    }

    private static InitialSnapshot.Row row(long id, long v) {
        return new InitialSnapshot.Row(
                List.of(String.valueOf(id)), ("{\"op\":\"r\",\"id\":" + id + ",\"v\":" + v + "}").getBytes());
    }

    private static byte[] bytes(long n) {
        return String.valueOf(n).getBytes(StandardCharsets.UTF_8);
    }

    /** Delivers everything; each event as "op id=v". */
    private List<String> deliver() throws Exception {
        emitter.flush();
        for (int i = 0; i < 1_000 && !pipeline.quiet(); i++) {
            pipeline.runLane(0);
        }
        List<String> out = new ArrayList<>();
        for (String p : sink.payloads()) {
            var json = WalFixture.JSON.readTree(p);
            if (json.get("op").asText().equals("r")) {
                out.add("r " + json.get("id").asText() + "=" + json.get("v").asText());
            } else {
                out.add(json.get("op").asText() + " "
                        + json.get("new").get("id").asText() + "="
                        + json.get("new").get("v").asText());
            }
        }
        return out;
    }
}
