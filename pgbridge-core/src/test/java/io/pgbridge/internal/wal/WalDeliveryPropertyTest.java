package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.TestSink;
import io.pgbridge.internal.pipeline.ManualPipeline;
import io.pgbridge.internal.replication.FlushTracker;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.SourceContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The WAL path's guarantee, end to end inside the bridge: a model WAL server streams transactions (commit LSN, end LSN,
 * changes on two routed channels and one unrouted) through the real {@link Emitter}, pipeline, lanes and
 * {@link FlushTracker}, while jqwik interleaves decoding, keepalives, reconnects (the server sends again from the
 * flushed LSN), lane runs whose sink confirms, fails in the middle of a batch after taking the rest (as a broker's
 * return or nack does), refuses for good or throws, retry timers, dead letters or halted routes, and finally a close
 * that drains. After every step: the flushed LSN never passes the commit of a transaction with an event the sink has
 * not reported confirmed (or a durable dead-letter destination taken), and never moves backwards. At the end, once
 * every event is confirmed, the flushed LSN covers every transaction.
 */
class WalDeliveryPropertyTest {
    private static final List<String> CHANNELS = List.of("public.a", "public.b", "public.unrouted");

    sealed interface Action {}

    /** The server sends its next message (begin, change or commit). */
    record Decode() implements Action {}

    /** A keepalive: the server reports its position (up to the next transaction's commit LSN). */
    record Keepalive() implements Action {}

    /** The replication connection drops and the server streams again from the flushed LSN. */
    record Reconnect() implements Action {}

    /** A ready lane runs; its sink does {@code outcome} at index {@code at} of the batch. */
    record RunLane(int pick, Outcome outcome, int at) implements Action {}

    /** A retry timer fires. */
    record FireRetry(int pick) implements Action {}

    enum Outcome {
        CONFIRM,
        FAIL_TAKING_THE_REST,
        REFUSE_FOR_GOOD,
        THROW
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(new Decode())),
                Tuple.of(2, Arbitraries.just(new Keepalive())),
                Tuple.of(1, Arbitraries.just(new Reconnect())),
                Tuple.of(
                        8,
                        net.jqwik.api.Combinators.combine(
                                        Arbitraries.integers().between(0, 9),
                                        Arbitraries.of(Outcome.class),
                                        Arbitraries.integers().between(0, 5))
                                .as(RunLane::new)),
                Tuple.of(3, Arbitraries.integers().between(0, 9).map(FireRetry::new)));
        return action.list().ofMaxSize(150);
    }

    @Provide
    Arbitrary<List<List<Integer>>> transactions() {
        return Arbitraries.integers()
                .between(0, 2)
                .list()
                .ofMinSize(1)
                .ofMaxSize(5)
                .list()
                .ofMinSize(1)
                .ofMaxSize(6);
    }

    @Property(tries = 1500)
    void theFlushedLsnNeverPassesATransactionWithAnUnconfirmedEvent(
            @ForAll("transactions") List<List<Integer>> transactions,
            @ForAll("actions") List<Action> actions,
            @ForAll boolean deadLetterQueue,
            @ForAll("batches") int maxBatch) {
        new Run(transactions, deadLetterQueue, maxBatch).play(actions);
    }

    @Provide
    Arbitrary<Integer> batches() {
        return Arbitraries.of(1, 2, 500);
    }

    /** One run: the model server, the scripted broker, and the bridge's real parts in between. */
    private static final class Run implements EventSource {
        final List<List<Integer>> txns; // channel index of each change
        // ids the sink reported confirmed, or a durable dead-letter destination took
        final Set<String> confirmed = new HashSet<>();
        final List<String> trace = new ArrayList<>();
        final ManualPipeline pipeline;
        final FlushTracker tracker = new FlushTracker(0);
        final Emitter emitter;

        // the server's stream: transaction index and message index within it (0 begin, 1..n changes, n+1 commit)
        int txn;
        int message;
        long serverLsn;
        long lastFlushed;
        Outcome outcome = Outcome.CONFIRM;
        int at;

        Run(List<List<Integer>> txns, boolean deadLetterQueue, int maxBatch) {
            this.txns = txns;
            DeadLetterHandler durable = (event, target, reason) -> confirmed.add(event.id());
            this.pipeline = new ManualPipeline(
                    List.of(Route.of("public.a", Target.queue("a")), Route.of("public.b", Target.queue("b"))),
                    new Broker(),
                    deadLetterQueue ? durable : null,
                    maxBatch,
                    10_000);
            SourceContext context = pipeline.attach(this);
            this.emitter = new Emitter("wal", context, tracker, Duration.ZERO, new Emitter.Connection() {
                @Override
                public void keepAlive() {}

                @Override
                public boolean reading() {
                    return true;
                }
            });
        }

        static long commitLsn(int i) {
            return 1_000L * (i + 1) + 500;
        }

        static long endLsn(int i) {
            return commitLsn(i) + 24;
        }

        void play(List<Action> actions) {
            for (Action action : actions) {
                trace.add(action.toString());
                step(action);
                check();
            }
            trace.add("close: decode the rest, then every lane and retry until quiet, the broker taking everything");
            outcome = Outcome.CONFIRM;
            while (txn < txns.size()) {
                decode();
                check();
            }
            for (int i = 0; !pipeline.quiet() && i < 100_000; i++) {
                if (!pipeline.runLane(0)) {
                    pipeline.fireRetry(0);
                }
                report(serverLsn);
                check();
            }
            report(endLsn(txns.size() - 1));
            assertThat(pipeline.inFlightEvents())
                    .as("room back to zero after %s", trace)
                    .isZero();
            assertThat(lastFlushed)
                    .as("every transaction covered once everything is confirmed, after %s", trace)
                    .isGreaterThanOrEqualTo(endLsn(txns.size() - 1));
        }

        void step(Action action) {
            if (action instanceof Decode) {
                if (txn < txns.size()) {
                    decode();
                }
            } else if (action instanceof Keepalive) {
                report(txn < txns.size() ? commitLsn(txn) : endLsn(txns.size() - 1) + 100);
            } else if (action instanceof Reconnect) {
                emitter.reset();
                emitter.flush();
                txn = 0;
                message = 0;
                while (txn < txns.size() && commitLsn(txn) < lastFlushed) {
                    txn++; // PostgreSQL skips a transaction whose commit starts below the confirmed flush LSN
                }
            } else if (action instanceof RunLane r) {
                outcome = r.outcome;
                at = r.at;
                pipeline.runLane(r.pick);
            } else if (action instanceof FireRetry f) {
                pipeline.fireRetry(f.pick);
            }
        }

        /** What WalSource's reader does with one message. */
        void decode() {
            List<Integer> changes = txns.get(txn);
            try {
                if (message == 0) {
                    emitter.begin(commitLsn(txn));
                    serverLsn = commitLsn(txn) - 400;
                } else if (message <= changes.size()) {
                    String channel = CHANNELS.get(changes.get(message - 1));
                    serverLsn = commitLsn(txn) - 400 + message;
                    if (emitter.next() && emitter.wants(channel)) {
                        emitter.emit(channel, ("change " + message).getBytes(StandardCharsets.UTF_8), null);
                    }
                } else {
                    emitter.commit(endLsn(txn));
                    serverLsn = commitLsn(txn);
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            if (++message > changes.size() + 1) {
                txn++;
                message = 0;
            }
            if (!emitter.inTransaction()) {
                emitter.flush();
            }
            report(serverLsn);
        }

        void report(long lsn) {
            long flushed = tracker.advance(lsn, emitter.inTransaction());
            assertThat(flushed)
                    .as("flushed LSN never moves backwards, after %s", trace)
                    .isGreaterThanOrEqualTo(lastFlushed);
            lastFlushed = flushed;
        }

        /** No transaction with a routed change the broker has not confirmed lies below the flushed LSN. */
        void check() {
            for (int i = 0; i < txns.size(); i++) {
                List<Integer> changes = txns.get(i);
                for (int k = 0; k < changes.size(); k++) {
                    boolean routed = changes.get(k) < 2;
                    String id = org.postgresql.replication.LogSequenceNumber.valueOf(commitLsn(i))
                                    .asString() + ":" + k;
                    if (routed && !confirmed.contains(id)) {
                        assertThat(lastFlushed)
                                .as(
                                        "flushed LSN passes transaction %d (commit %d) whose change %s is unconfirmed, after %s",
                                        i, commitLsn(i), id, trace)
                                .isLessThanOrEqualTo(commitLsn(i));
                    }
                }
            }
        }

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

        /** A broker that takes a whole batch except where told to fail, like RabbitMQ with confirms and mandatory. */
        private final class Broker extends TestSink {
            Broker() {
                super("scripted");
            }

            @Override
            public PublishResult publish(Target target, List<Event> events) {
                int k = Math.min(at, events.size() - 1);
                switch (outcome) {
                    case CONFIRM -> {
                        events.forEach(e -> confirmed.add(e.id()));
                        return PublishResult.confirmed(events.size());
                    }
                    case FAIL_TAKING_THE_REST -> {
                        // the broker also took the events after k, but reports only the first k confirmed
                        for (int i = 0; i < k; i++) {
                            confirmed.add(events.get(i).id());
                        }
                        return PublishResult.failed(k, "nacked", null);
                    }
                    case REFUSE_FOR_GOOD -> {
                        for (int i = 0; i < k; i++) {
                            confirmed.add(events.get(i).id());
                        }
                        return PublishResult.rejected(k, "refused");
                    }
                    default -> throw new IllegalStateException("sink bug");
                }
            }
        }
    }
}
