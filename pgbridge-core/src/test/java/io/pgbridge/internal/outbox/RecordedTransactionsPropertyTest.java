package io.pgbridge.internal.outbox;

import static org.assertj.core.api.Assertions.assertThat;

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
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link RecordedTransactions}' invariant, in the streaming outbox's protocol with the server: whatever jqwik
 * interleaves (decoding, failing over, going back to streaming, writes of recorded events that fail, lost replication
 * connections, PostgreSQL crashes that take the slot back to its last saved position, bridge restarts), an event the
 * stream skips as recorded is in the replay table or was handed over, and every event below the slot's position is.
 *
 * <p>The model is {@link OutboxReplay}'s use of the rule: events decoded while failed over are buffered and written
 * in batches (here of 2) and at their transaction's commit; a failed write drops the buffer and reconnects; a
 * transaction is sealed (may be acknowledged) once its commit was decoded and written; the server sends again from
 * the slot's position, and the emitter hands over only what it did not hand over before. Events handed over count as
 * delivered: the pipeline's side of the guarantee is {@code LedgerPropertyTest}'s. Removing the {@code allComplete()}
 * check from going back to streaming fails this property (a write fails, the stream reconnects, streams again, and
 * skips the resent transaction), as the chaos suite found.
 */
class RecordedTransactionsPropertyTest {
    private static final int WRITE_BATCH = 2;

    enum Action {
        STEP,
        FAIL_NEXT_WRITE,
        FAIL_OVER,
        STREAM_AGAIN,
        ACKNOWLEDGE,
        STREAM_LOST,
        SAVE_SLOT,
        POSTGRES_CRASH,
        BRIDGE_RESTART
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.just(Action.STEP)),
                Tuple.of(2, Arbitraries.just(Action.FAIL_NEXT_WRITE)),
                Tuple.of(2, Arbitraries.just(Action.FAIL_OVER)),
                Tuple.of(3, Arbitraries.just(Action.STREAM_AGAIN)),
                Tuple.of(3, Arbitraries.just(Action.ACKNOWLEDGE)),
                Tuple.of(1, Arbitraries.just(Action.STREAM_LOST)),
                Tuple.of(1, Arbitraries.just(Action.SAVE_SLOT)),
                Tuple.of(1, Arbitraries.just(Action.POSTGRES_CRASH)),
                Tuple.of(1, Arbitraries.just(Action.BRIDGE_RESTART)));
        return action.list().ofMaxSize(200);
    }

    @Property(tries = 2000)
    void aSkippedOrAcknowledgedEventIsRecordedOrHandedOver(
            @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 1, max = 5) Integer> transactions,
            @ForAll("actions") List<Action> actions) {
        Stream stream = new Stream(transactions);
        for (Action a : actions) {
            stream.apply(a);
            stream.checkAcknowledged();
        }
        for (int i = 0; i < 1_000 && !stream.drained(); i++) {
            stream.apply(Action.STEP);
            stream.apply(Action.STREAM_AGAIN);
            stream.apply(Action.ACKNOWLEDGE);
            stream.checkAcknowledged();
        }
        assertThat(stream.drained())
                .as("the stream reads to the end once faults stop")
                .isTrue();
    }

    /** The server, the replay table, and the bridge's reader. */
    private static final class Stream {
        private final List<Integer> sizes;
        // the server and the replay table
        private final Set<Long> table = new HashSet<>();
        private final Set<Long> handedOver = new HashSet<>();
        private int slot; // first transaction the slot does not confirm: the server sends from it
        private int savedSlot; // the slot's position on disk (PostgreSQL saves it at a checkpoint)
        // the bridge
        private RecordedTransactions recorded = new RecordedTransactions();
        private boolean failover;
        private final List<Long> buffer = new ArrayList<>();
        private int tx;
        private int ordinal;
        private int sealed = -1;
        private long lastHanded = -1; // the emitter's last handed-over event: later ones are new
        private boolean failNextWrite;

        Stream(List<Integer> sizes) {
            this.sizes = sizes;
        }

        static long commitLsn(int tx) {
            return 100L * (tx + 1);
        }

        static long event(int tx, int ordinal) {
            return tx * 100L + ordinal;
        }

        boolean drained() {
            return tx == sizes.size() && !failover;
        }

        void apply(Action a) {
            switch (a) {
                case STEP -> step();
                case FAIL_NEXT_WRITE -> failNextWrite = true;
                case FAIL_OVER -> failover = true;
                case STREAM_AGAIN -> {
                    if (failover && ordinal == 0 && recorded.allComplete()) {
                        failover = false; // OutboxReplay also waits for the replayed events; those are in the table
                    }
                }
                case ACKNOWLEDGE -> slot = sealed + 1;
                case STREAM_LOST -> reconnect();
                case SAVE_SLOT -> savedSlot = slot;
                case POSTGRES_CRASH -> {
                    slot = savedSlot;
                    reconnect();
                }
                case BRIDGE_RESTART -> {
                    long highest = table.stream()
                            .mapToLong(e -> commitLsn((int) (e / 100)))
                            .max()
                            .orElse(Long.MIN_VALUE);
                    long confirmedFlush = slot == 0 ? Long.MIN_VALUE : commitLsn(slot - 1) + 1;
                    recorded = RecordedTransactions.restored(highest, confirmedFlush);
                    failover = recorded.any();
                    buffer.clear();
                    sealed = slot - 1;
                    lastHanded = -1;
                    reconnect();
                }
            }
        }

        private void reconnect() {
            tx = slot;
            ordinal = 0;
        }

        private void step() {
            if (tx == sizes.size()) {
                return;
            }
            long lsn = commitLsn(tx);
            if (ordinal == sizes.get(tx)) {
                if (write()) {
                    recorded.committed(lsn);
                    sealed = Math.max(sealed, tx);
                    tx++;
                    ordinal = 0;
                }
                return;
            }
            long event = event(tx, ordinal++);
            if (event <= lastHanded) {
                return; // handed over before: not new
            }
            if (recorded.skip(lsn, failover)) {
                assertThat(table.contains(event) || handedOver.contains(event))
                        .as("event %d skipped as recorded, yet neither recorded nor handed over", event)
                        .isTrue();
                return;
            }
            if (failover) {
                recorded.recording(lsn);
                buffer.add(event);
                if (buffer.size() >= WRITE_BATCH) {
                    write();
                }
                return;
            }
            handedOver.add(event);
            lastHanded = event;
        }

        /** Writes the buffer; a failure drops it and reconnects (the server sends those transactions again). */
        private boolean write() {
            if (failNextWrite) {
                failNextWrite = false;
                buffer.clear();
                reconnect();
                return false;
            }
            table.addAll(buffer);
            buffer.clear();
            return true;
        }

        void checkAcknowledged() {
            for (int t = 0; t < slot; t++) {
                for (int o = 0; o < sizes.get(t); o++) {
                    long event = event(t, o);
                    assertThat(table.contains(event) || handedOver.contains(event))
                            .as("event %d below the slot's position, yet neither recorded nor handed over", event)
                            .isTrue();
                }
            }
        }
    }
}
