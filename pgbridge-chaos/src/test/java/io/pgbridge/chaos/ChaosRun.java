package io.pgbridge.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.chaos.Checker.Report;
import io.pgbridge.chaos.Nemesis.Fault;
import io.pgbridge.chaos.Nemesis.Injected;
import io.pgbridge.chaos.Producer.Commit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One chaos run: the producer writes while the nemesis injects faults, then the producer and nemesis stop, the bridges
 * drain, the checker compares the ledger with what arrived, and the slot must stop holding WAL once all is quiet.
 *
 * <p>Length: {@code -Dchaos.minutes=N} gives every scenario N minutes of faults; the default (CI) is a short schedule of
 * {@value #SHORT_SECONDS} s. Seed: {@code -Dchaos.seed=S} replays a run's schedule (transaction sizes, routes, faults
 * and their timing); without it every run draws a new seed and prints it.
 */
final class ChaosRun {
    static final int SHORT_SECONDS = 25;
    /** How long the slot may take, once nothing is written, to confirm everything but the last heartbeats. */
    static final Duration QUIET = Duration.ofSeconds(30);
    /** What a slot may still hold after {@link #QUIET}: heartbeats and keepalives, not transactions. */
    static final long SLOT_HOLD_LIMIT_BYTES = 64 * 1024;

    private static final Duration DRAIN = Duration.ofMinutes(10);
    private static final Duration STALLED = Duration.ofSeconds(60);

    /** What the docs promise for a scenario, which decides what fails it. */
    enum Promise {
        /** No loss; commit order per route after deduplication (docs/wal.md, docs/outbox.md streaming). */
        ORDERED,
        /** No loss; order not promised (several polling instances interleave, docs/outbox.md). */
        UNORDERED,
        /**
         * NOTIFY: a notification sent while nobody listens, or while the pipeline is full, is lost (README: at most
         * once); the loss and its longest gap are measured and logged, and rows written after the faults must arrive.
         */
        LOSSY_WHILE_NOT_LISTENING
    }

    /** What a scenario runs. */
    record Scenario(
            String test,
            Workload.Source source,
            int routes,
            int bridges,
            List<Fault> faults,
            List<String> jvmOptions,
            Promise promise) {}

    /** NOTIFY: the producer writes this long after the last fault; the first seconds are the bridge's to listen. */
    private static final Duration CALM = Duration.ofSeconds(12);

    /**
     * NOTIFY: how long after the last fault the bridge may still not listen: a frozen LISTEN connection is found by
     * the probe (1 s of silence, then 2 s without an answer, see {@link Workload}) and reconnected (1 s at most).
     */
    private static final Duration LISTEN_GRACE = Duration.ofSeconds(5);

    private ChaosRun() {}

    static long seed() {
        String configured = System.getProperty("chaos.seed");
        return configured == null || configured.isBlank() ? new Random().nextLong() : Long.parseLong(configured.trim());
    }

    static long faultMillis() {
        long minutes = Long.getLong("chaos.minutes", 0);
        return minutes > 0 ? minutes * 60_000 : SHORT_SECONDS * 1_000L;
    }

    /**
     * Runs {@code scenario} and asserts: no loss, no phantom, stable event ids, no order violation where the docs
     * promise order, no bridge that stopped by itself, and a slot that holds no WAL after a quiet period.
     *
     * @param sinkFactory the sink side, given the run's unique name
     * @param body what the producer does, given the producer (by default: {@link Producer#start()} at a steady rate)
     */
    static Report run(Scenario scenario, SinkFactory sinkFactory, ProducerBody body) throws Exception {
        return run(seed(), scenario, sinkFactory, body);
    }

    /** {@link #run(Scenario, SinkFactory, ProducerBody)} with a given seed: a seed that found a defect, kept. */
    static Report run(long seed, Scenario scenario, SinkFactory sinkFactory, ProducerBody body) throws Exception {
        String name = "chaos_" + Long.toString(seed & 0xffffffffL, 36) + "_"
                + scenario.source().name().toLowerCase(java.util.Locale.ROOT).charAt(0);
        System.out.printf(
                "chaos: %s seed %d; rerun: ./mvnw -B -pl pgbridge-chaos -am verify -Dtest='Checker*'"
                        + " -Dit.test='ChaosIT#%s' -Dchaos.seed=%d -Dsurefire.failIfNoSpecifiedTests=false"
                        + " -Dfailsafe.failIfNoSpecifiedTests=false%n",
                scenario.test(), seed, scenario.test(), seed);
        Workload workload = new Workload(scenario.source(), name, scenario.routes());
        List<Nemesis.Planned> plan =
                Nemesis.schedule(seed, scenario.faults(), faultMillis(), scenario.bridges(), scenario.routes());
        System.out.println("chaos: schedule " + plan);
        try (SinkSide sink = sinkFactory.open(name)) {
            try (Connection c = ChaosServices.connect()) {
                workload.create(c);
            }
            Deliveries deliveries = new Deliveries(scenario.routes());
            sink.consume(deliveries);
            Map<String, String> env = new HashMap<>(workload.bridgeEnvironment(sink::target));
            env.putAll(sink.environment());
            Report report;
            try (Bridges bridges = new Bridges(name, env, sink.uri(), scenario.jvmOptions(), scenario.bridges());
                    Producer producer = new Producer(workload, new Random(seed))) {
                bridges.startAll();
                if (workload.slot() != null) {
                    await().atMost(Duration.ofMinutes(1)).until(() -> slotExists(workload.slot()));
                }
                Nemesis nemesis = new Nemesis(plan, bridges, workload, sink);
                body.produce(producer);
                nemesis.start();
                List<Injected> faults = nemesis.awaitEnd();
                long calmFrom = Long.MAX_VALUE;
                if (scenario.promise() == Promise.LOSSY_WHILE_NOT_LISTENING) {
                    calmFrom = System.currentTimeMillis() + LISTEN_GRACE.toMillis();
                    Thread.sleep(CALM.toMillis()); // the producer writes on, without faults
                }
                producer.stop();
                List<Commit> commits;
                try (Connection c = ChaosServices.connect()) {
                    commits = producer.settle(c);
                }
                long rows = commits.stream().mapToLong(Commit::rows).sum();
                long drainStart = System.nanoTime();
                awaitQuietly(DRAIN, drained(rows, deliveries, bridges, scenario.promise()));
                System.out.printf(
                        "chaos: drained in %,d ms after the last fault%n",
                        (System.nanoTime() - drainStart) / 1_000_000);
                report = Checker.check(commits, producer.inDoubtCount(), deliveries, faults, calmFrom);
                long held = workload.slot() == null ? 0 : awaitSlotQuiet(workload.slot());
                long brokerDropped = sink.brokerDropped();
                System.out.println("chaos: " + scenario.test() + " seed " + seed + ": " + report.summary()
                        + (workload.slot() == null ? "" : "; slot holds " + held + " bytes after the quiet period")
                        + "; the broker dropped " + brokerDropped);
                record(scenario, seed, report, held);
                if (report.orderViolations() > 0) {
                    dumpDeliveries(scenario, seed, deliveries);
                }
                assertThat(bridges.unexpectedExits())
                        .as("bridges that stopped by themselves")
                        .isEmpty();
                if (scenario.promise() == Promise.LOSSY_WHILE_NOT_LISTENING) {
                    // the docs allow NOTIFY to drop while nobody listens and while the pipeline is full (sinks behind
                    // after a fault): what must hold is that the bridge listens and delivers again after the faults
                    assertThat(report.committedAfterFaults() - report.lostAfterFaults())
                            .as("rows written %s after the last fault that arrived (seed %d)", LISTEN_GRACE, seed)
                            .isPositive();
                } else {
                    assertThat(report.lost())
                            .as(
                                    "rows lost (seed %d; messages the broker acknowledged and then dropped itself: %d):"
                                            + " %s",
                                    seed, brokerDropped, report.lostSample())
                            .isZero();
                }
                assertThat(report.phantoms())
                        .as("messages of rows never committed to that route")
                        .isZero();
                assertThat(report.eventIdChanged())
                        .as("redeliveries with another event id")
                        .isZero();
                if (scenario.promise() == Promise.ORDERED) {
                    assertThat(report.orderViolations())
                            .as("order violations per route after deduplication (seed %d)", seed)
                            .isZero();
                }
                if (workload.slot() != null) {
                    assertThat(held)
                            .as("bytes of WAL the slot still holds after %s of quiet", QUIET)
                            .isLessThanOrEqualTo(SLOT_HOLD_LIMIT_BYTES);
                }
            }
            awaitQuietly(Duration.ofMinutes(1), () -> workload.slot() == null || !slotActive(workload.slot()));
            try (Connection c = ChaosServices.connect()) {
                workload.drop(c);
            }
            return report;
        }
    }

    /** Opens the sink side of a run, given the run's unique name (queues, topics, streams are named after it). */
    interface SinkFactory {
        SinkSide open(String name) throws Exception;
    }

    /** The producer's part of a scenario. */
    interface ProducerBody {
        void produce(Producer producer) throws Exception;

        /** Transactions of 1 to 20,000 rows at a steady rate for the whole run. */
        ProducerBody STEADY = Producer::start;
    }

    /**
     * Everything committed arrived, or a bridge stopped by itself, or nothing new arrived for {@link #STALLED} (a slow
     * bridge may drain for up to {@link #DRAIN}, a stalled one is not waited for); for NOTIFY (where rows sent while
     * nobody listened never come) nothing new for five seconds.
     */
    private static java.util.concurrent.Callable<Boolean> drained(
            long rows, Deliveries deliveries, Bridges bridges, Promise promise) {
        long[] last = {-1, System.nanoTime()};
        return () -> {
            long now = deliveries.distinct();
            if (now != last[0]) {
                last[0] = now;
                last[1] = System.nanoTime();
            }
            long still = System.nanoTime() - last[1];
            return now >= rows
                    || !bridges.unexpectedExits().isEmpty()
                    || still > STALLED.toNanos()
                    || (promise == Promise.LOSSY_WHILE_NOT_LISTENING
                            && still > Duration.ofSeconds(5).toNanos());
        };
    }

    private static void awaitQuietly(Duration atMost, java.util.concurrent.Callable<Boolean> condition) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(250)).until(condition);
        } catch (ConditionTimeoutException e) {
            // the checker reports what is missing
        }
    }

    /** Waits up to {@link #QUIET} for the slot to confirm everything but heartbeats; returns what it still holds. */
    private static long awaitSlotQuiet(String slot) throws SQLException {
        awaitQuietly(QUIET, () -> slotHeld(slot) <= SLOT_HOLD_LIMIT_BYTES);
        return slotHeld(slot);
    }

    private static long slotHeld(String slot) throws SQLException {
        return queryLong(
                "SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot
                        + "'");
    }

    private static boolean slotExists(String slot) throws SQLException {
        return queryLong("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'") == 1;
    }

    private static boolean slotActive(String slot) throws SQLException {
        return queryLong("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND active") == 1;
    }

    private static long queryLong(String sql) throws SQLException {
        try (Connection c = ChaosServices.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * After an order violation: every route's deliveries in arrival order (row id, event id, arrival time in ms), one
     * file per route in {@code target/chaos-reports}, to tell a reordering from a retry.
     */
    private static void dumpDeliveries(Scenario scenario, long seed, Deliveries deliveries) throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "chaos-reports"));
        for (int r = 0; r < deliveries.routes(); r++) {
            StringBuilder sb = new StringBuilder();
            for (Deliveries.Delivery d : deliveries.of(r)) {
                sb.append(d.id())
                        .append('\t')
                        .append(d.eventId())
                        .append('\t')
                        .append(d.atMillis())
                        .append('\n');
            }
            Files.writeString(dir.resolve(scenario.test() + "-" + seed + "-route" + r + ".tsv"), sb.toString());
        }
    }

    /** Appends the run to {@code target/chaos-reports/runs.tsv}, the source of the table in docs/reliability.md. */
    private static void record(Scenario scenario, long seed, Report r, long held) throws IOException {
        Path file = Files.createDirectories(Path.of("target", "chaos-reports")).resolve("runs.tsv");
        String line = String.join(
                        "\t",
                        scenario.test(),
                        Long.toString(seed),
                        Long.toString(faultMillis() / 1000),
                        Long.toString(r.committedRows()),
                        Long.toString(r.deliveries()),
                        Integer.toString(r.faults()),
                        Long.toString(r.lost()),
                        Long.toString(r.duplicates()),
                        Long.toString(r.duplicatesAtFault()),
                        Long.toString(r.orderViolations()),
                        Long.toString(r.retriedOutOfOrder()),
                        Long.toString(r.worstLatencyMillis()),
                        Long.toString(held))
                + "\n";
        Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
