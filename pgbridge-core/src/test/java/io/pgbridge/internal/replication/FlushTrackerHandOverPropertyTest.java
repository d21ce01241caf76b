package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The hand-over of acknowledgements from delivery threads to the WAL reader ({@link FlushTracker#acknowledge} on
 * one side, {@link FlushTracker#awaitAcknowledged} and {@link FlushTracker#advance} on the other), with real threads:
 * 1 to 4 delivery threads acknowledge the sealed positions in turn, serialised as the ledger's lock serialises them,
 * with jqwik's choice of pauses on both sides, while the reader seals positions ahead of them, computes the flushed
 * LSN and waits for the next acknowledgement as the source does. The reader never misses a wake-up (no wait runs
 * into its timeout while an acknowledgement beyond what it saw exists), sees acknowledgements only grow, reaches the
 * last one, and the flushed LSN it computes never passes the end of a position not yet acknowledged when it read it.
 */
class FlushTrackerHandOverPropertyTest {
    /** Far longer than any pause below: a wait that runs into it missed its wake-up. */
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

    @Provide
    Arbitrary<List<Integer>> pauses() {
        // micro-pauses, in units of about 10 µs: 0 yields nothing, so both sides also meet head-on
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(5, Arbitraries.just(0)),
                        net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(1, 5)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(20, 100)))
                .list()
                .ofMinSize(1)
                .ofMaxSize(40);
    }

    @Property(tries = 300)
    void theReaderTakesEveryAcknowledgementWithoutPollingAndNeverFlushesPastOne(
            @ForAll @IntRange(min = 1, max = 60) int positions,
            @ForAll @IntRange(min = 1, max = 4) int deliveryThreads,
            @ForAll("pauses") List<Integer> deliveryPauses,
            @ForAll("pauses") List<Integer> readerPauses)
            throws Exception {
        FlushTracker tracker = new FlushTracker(0);
        long last = position(positions - 1);
        Object ledgerLock = new Object();
        CountDownLatch sealedAll = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] next = {0};
        for (int t = 0; t < deliveryThreads; t++) {
            int id = t;
            Thread d = new Thread(() -> {
                try {
                    sealedAll.await();
                    for (int step = 0; ; step++) {
                        pause(deliveryPauses.get((step * deliveryThreads + id) % deliveryPauses.size()));
                        synchronized (ledgerLock) {
                            if (next[0] == positions) {
                                return;
                            }
                            tracker.acknowledge(position(next[0]++));
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads.add(d);
        }
        threads.forEach(Thread::start);

        List<Long> seen = new ArrayList<>();
        // the reader: seals every position first (the ledger acknowledges only sealed positions), then waits
        for (int i = 0; i < positions; i++) {
            tracker.sealed(position(i));
        }
        sealedAll.countDown();
        long known = Long.MIN_VALUE;
        int step = 0;
        while (known < last) {
            long before = tracker.acknowledged();
            long flushed = tracker.advance(Long.MAX_VALUE, false);
            long after = tracker.acknowledged();
            assertThat(flushed)
                    .as("flushed LSN within what was acknowledged around its computation")
                    .isBetween(flushedFor(before, last), flushedFor(after, last));
            pause(readerPauses.get(step++ % readerPauses.size()));
            long started = System.nanoTime();
            long ack = tracker.awaitAcknowledged(known, TIMEOUT_NANOS);
            long waited = System.nanoTime() - started;
            assertThat(waited)
                    .as("a wait for an acknowledgement beyond %d ran into its timeout: a lost wake-up", known)
                    .isLessThan(TIMEOUT_NANOS / 2);
            assertThat(ack).as("acknowledgements only grow").isGreaterThanOrEqualTo(known);
            if (ack > known) {
                seen.add(ack);
            }
            known = ack;
        }
        for (Thread d : threads) {
            d.join(TimeUnit.SECONDS.toMillis(10));
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        List<Long> sorted = new ArrayList<>(seen);
        Collections.sort(sorted);
        assertThat(seen).as("seen in increasing order").isEqualTo(sorted).doesNotHaveDuplicates();
        assertThat(known).isEqualTo(last);
        assertThat(tracker.advance(Long.MAX_VALUE, false))
                .as("every sealed position acknowledged, no transaction open: the server's position")
                .isEqualTo(Long.MAX_VALUE);
    }

    /** The flushed LSN when {@code acknowledged} is the highest acknowledged position and every one is sealed. */
    private static long flushedFor(long acknowledged, long last) {
        if (acknowledged == Long.MIN_VALUE) {
            return 0; // where the slot stood
        }
        return acknowledged == last ? Long.MAX_VALUE : acknowledged + 1; // all acknowledged: the server's position
    }

    private static long position(int i) {
        return 1_000L * (i + 1) - 1;
    }

    private static void pause(int units) {
        if (units == 0) {
            return;
        }
        long until = System.nanoTime() + units * 10_000L;
        while (System.nanoTime() < until) {
            Thread.onSpinWait(); // a pause of a chosen length inside the interleaving, not a wait for a condition
        }
    }
}
