package io.pgbridge.internal.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The rule of {@link WaitOrDrop}, as one invariant: the source waits for room only while the pipeline has refused
 * notifications for less than {@code maxWait} in a row (since it last took one) and PostgreSQL's notification queue,
 * measured at most {@link WaitOrDrop#USAGE_MAX_AGE} before, is less than {@code maxQueueUsage} full; otherwise it
 * drops. Checked on a simulated clock over any run of notifications (room in the pipeline after any delay, or never)
 * and any course of the queue usage (including failed measurements): every wait obeys the rule, and every drop is
 * justified by it (so a notification is dropped only when waiting was not allowed).
 */
class WaitOrDropPropertyTest {
    private static final long MS = 1_000_000;
    private static final long NEVER = Long.MAX_VALUE / 4;

    /** One notification: the pipeline has room for it this long after it is first offered; then the next one comes. */
    record Notification(long roomAfterMs, long gapMs) {}

    @Provide
    Arbitrary<Notification> notification() {
        Arbitrary<Long> room = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, 3_000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(NEVER)));
        Arbitrary<Long> gap = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 2_000)));
        return Combinators.combine(room, gap).as(Notification::new);
    }

    /** Queue usage per 250 ms of simulated time (repeating); NaN is a failed measurement. */
    @Provide
    Arbitrary<List<Double>> usageCourse() {
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(6, Arbitraries.doubles().between(0, 0.6)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.just(Double.NaN)))
                .list()
                .ofMinSize(1)
                .ofMaxSize(40);
    }

    @Property(tries = 500)
    void waitsOnlyWithinTheBoundsAndDropsOnlyWhenTheyAreReached(
            @ForAll @IntRange(min = 0, max = 5_000) int maxWaitMs,
            @ForAll @IntRange(min = 1, max = 50) int maxUsagePercent,
            @ForAll("usageCourse") List<Double> usageCourse,
            @ForAll @Size(min = 1, max = 60) List<@net.jqwik.api.From("notification") Notification> notifications)
            throws InterruptedException {
        Simulation sim = new Simulation(maxWaitMs * MS, maxUsagePercent / 100.0, usageCourse);
        for (Notification n : notifications) {
            sim.handOver(n);
            sim.now += n.gapMs() * MS;
        }
    }

    @Example
    void aBurstIsWaitedForAndAnOutageIsWaitedForOnlyUpToTheBound() throws InterruptedException {
        Simulation sim = new Simulation(1_000 * MS, 0.10, List.of(0.0));
        assertThat(sim.handOver(new Notification(400, 0)))
                .as("room after 400 ms")
                .isTrue();
        assertThat(sim.handOver(new Notification(NEVER, 0))).as("sinks down").isFalse();
        assertThat(sim.now).as("waited the bound, 1 s").isEqualTo(1_400 * MS);
        assertThat(sim.handOver(new Notification(10, 0)))
                .as("still refused in a row: no more waiting")
                .isFalse();
        assertThat(sim.handOver(new Notification(0, 0))).isTrue();
        assertThat(sim.handOver(new Notification(900, 0)))
                .as("taken: a new run of refusals")
                .isTrue();
    }

    @Example
    void aQueueFullerThanTheBoundOrUnknownDropsAtOnce() throws InterruptedException {
        Simulation full = new Simulation(1_000 * MS, 0.10, List.of(0.10));
        assertThat(full.handOver(new Notification(1, 0))).isFalse();
        assertThat(full.now).isZero();
        Simulation unknown = new Simulation(1_000 * MS, 0.10, List.of(Double.NaN));
        assertThat(unknown.handOver(new Notification(1, 0))).isFalse();
    }

    /** {@link WaitOrDrop} on a simulated clock, checked at every step against the rule. */
    private static final class Simulation {
        final long maxWait;
        final double maxUsage;
        final List<Double> usageCourse;
        final WaitOrDrop rule;
        long now;
        /** When the current run of refusals began (the model's own bookkeeping), or -1 after a notification was taken. */
        long refusedSince = -1;
        /** The last usage measurement: time and value. */
        long measuredAt = -1;

        double measured = Double.NaN;

        Simulation(long maxWait, double maxUsage, List<Double> usageCourse) {
            this.maxWait = maxWait;
            this.maxUsage = maxUsage;
            this.usageCourse = usageCourse;
            this.rule = new WaitOrDrop(Duration.ofNanos(maxWait), maxUsage, () -> now);
        }

        double usage() {
            measuredAt = now;
            measured = usageCourse.get((int) ((now / (250 * MS)) % usageCourse.size()));
            return measured;
        }

        boolean waitAllowedNow() {
            return refusedSince >= 0
                    && now - refusedSince < maxWait
                    && measuredAt >= 0
                    && now - measuredAt <= WaitOrDrop.USAGE_MAX_AGE.toNanos()
                    && measured < maxUsage;
        }

        boolean handOver(Notification n) throws InterruptedException {
            long roomAt = n.roomAfterMs() >= NEVER ? NEVER : now + n.roomAfterMs() * MS;
            List<Long> waits = new ArrayList<>();
            boolean taken = rule.handOver(
                    n,
                    (offered, timeout) -> {
                        assertThat(offered)
                                .as("the notification in hand is offered")
                                .isSameAs(n);
                        assertThat(timeout).as("a wait is never negative").isNotNegative();
                        if (roomAt <= now) {
                            refusedSince = -1;
                            return true;
                        }
                        if (timeout > 0) {
                            assertThat(waitAllowedNow())
                                    .as(
                                            "waits only within the rule (refused since %d, usage %f measured at %d, now %d)",
                                            refusedSince, measured, measuredAt, now)
                                    .isTrue();
                            assertThat(now + timeout - refusedSince)
                                    .as("the wait ends within the bound of the run of refusals")
                                    .isLessThanOrEqualTo(maxWait);
                            waits.add(timeout);
                            if (roomAt <= now + timeout) {
                                now = roomAt;
                                refusedSince = -1;
                                return true;
                            }
                            now += timeout;
                            return false;
                        }
                        if (refusedSince < 0) {
                            refusedSince = now;
                        }
                        return false;
                    },
                    this::usage);
            if (!taken) {
                boolean boundReached = now - refusedSince >= maxWait;
                boolean queueTooFull = measuredAt == now && !(measured < maxUsage);
                assertThat(boundReached || queueTooFull)
                        .as(
                                "dropped only when refused for the whole bound (%d of %d ns) or with the queue too full"
                                        + " (%f measured now)",
                                now - refusedSince, maxWait, measured)
                        .isTrue();
            }
            return taken;
        }
    }
}
