package io.pgbridge.chaos;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Injects faults on a schedule drawn from a seed: which fault, when, on which bridge or route, for how long. The
 * schedule is fixed by the seed (printed with every run); the timing of the system around it is not, so a rerun with
 * the same seed replays the same faults at the same moments, not the same interleaving to the microsecond. One fault
 * at a time: each is applied, held, and undone before the next.
 */
final class Nemesis {
    enum Fault {
        BRIDGE_SIGKILL,
        BRIDGE_SIGTERM,
        /** kill -9 of the suite's RabbitMQ node, then a fresh start of it (durable queues survive). */
        RABBIT_CRASH,
        /** stop_app and start_app of the suite's RabbitMQ node. */
        RABBIT_RESTART,
        /** pg_ctl -m immediate restart of the suite's PostgreSQL: a crash and recovery. */
        POSTGRES_CRASH,
        /** pg_terminate_backend of the walsender serving the bridge's slot. */
        KILL_WALSENDER,
        /** pg_terminate_backend of the bridge's LISTEN connections. */
        KILL_LISTEN,
        /** Every open connection between the bridges and PostgreSQL stops carrying bytes, silently. */
        FREEZE_POSTGRES_PATH,
        /** Every open connection between the bridges and the sink stops carrying bytes, silently. */
        FREEZE_SINK_PATH,
        /** The sink refuses every message for a while (RabbitMQ: max-length 0 with reject-publish: nacks). */
        SINK_REFUSES,
        /** One route cannot be delivered for a while (RabbitMQ: its queue unbound, so the publish is returned). */
        UNROUTABLE,
        /** The sink's service is stopped for a while, then started (the webhook endpoint: stalls, then answers). */
        SINK_DOWN
    }

    /** One planned fault: after {@code delayMillis}, {@code fault} on bridge or route {@code target}. */
    record Planned(long delayMillis, Fault fault, int target, long holdMillis) {}

    /** One fault as it happened. */
    record Injected(Fault fault, int target, long startMillis, long endMillis) {}

    private final List<Planned> schedule;
    private final Bridges bridges;
    private final Workload workload;
    private final SinkSide sink;
    private final List<Injected> injected = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile Throwable failure;

    Nemesis(List<Planned> schedule, Bridges bridges, Workload workload, SinkSide sink) {
        this.schedule = schedule;
        this.bridges = bridges;
        this.workload = workload;
        this.sink = sink;
        this.thread = new Thread(this::run, "chaos-nemesis");
        thread.setDaemon(true);
    }

    /**
     * A schedule of faults filling {@code millis}: a pause of 1 to 3 s, then one of {@code faults}, held 1 to 3.5 s
     * where holding means something.
     */
    static List<Planned> schedule(long seed, List<Fault> faults, long millis, int bridges, int routes) {
        Random random = new Random(seed ^ 0x6e656d65L);
        List<Planned> plan = new ArrayList<>();
        long t = 0;
        while (true) {
            long delay = 1_000 + random.nextInt(2_000);
            Fault fault = faults.get(random.nextInt(faults.size()));
            int target = random.nextInt(fault == Fault.UNROUTABLE ? routes : bridges);
            long hold = 1_000 + random.nextInt(2_500);
            t += delay + hold;
            if (t > millis) {
                return plan;
            }
            plan.add(new Planned(delay, fault, target, hold));
        }
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            for (Planned p : schedule) {
                Thread.sleep(p.delayMillis());
                if (stopping) {
                    return;
                }
                long start = System.currentTimeMillis();
                inject(p);
                injected.add(new Injected(p.fault(), p.target(), start, System.currentTimeMillis()));
                System.out.printf(
                        "chaos: %s %s (target %d)%n", java.time.Instant.ofEpochMilli(start), p.fault(), p.target());
                bridges.checkAlive();
            }
        } catch (Exception | Error e) {
            failure = e;
        }
    }

    private void inject(Planned p) throws Exception {
        switch (p.fault()) {
            case BRIDGE_SIGKILL -> bridges.killAndRestart(p.target());
            case BRIDGE_SIGTERM -> bridges.terminateAndRestart(p.target());
            case RABBIT_CRASH -> ChaosServices.run("rabbit-kill");
            case RABBIT_RESTART -> ChaosServices.run("rabbit-restart");
            case POSTGRES_CRASH -> ChaosServices.run("pg-restart");
            case KILL_WALSENDER ->
                terminate("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots" + " WHERE slot_name = '"
                        + workload.slot() + "' AND active_pid IS NOT NULL");
            case KILL_LISTEN ->
                terminate(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                + " WHERE application_name = 'pgbridge' AND backend_type = 'client backend'"
                                + " AND (query ILIKE 'LISTEN%' OR query ILIKE '%pg_listening_channels%' OR query = 'SELECT 1')");
            case FREEZE_POSTGRES_PATH -> {
                bridges.freezePostgresPath();
                Thread.sleep(p.holdMillis());
            }
            case FREEZE_SINK_PATH -> {
                bridges.freezeSinkPath();
                Thread.sleep(p.holdMillis());
            }
            case SINK_REFUSES -> {
                sink.refuse();
                Thread.sleep(p.holdMillis());
                sink.accept();
            }
            case UNROUTABLE -> {
                sink.unroute(p.target());
                Thread.sleep(p.holdMillis());
                sink.route(p.target());
            }
            case SINK_DOWN -> {
                sink.stop();
                Thread.sleep(p.holdMillis());
                sink.start();
            }
        }
    }

    private static void terminate(String sql) throws Exception {
        try (Connection c = ChaosServices.connect();
                Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (java.sql.SQLException e) {
            // PostgreSQL may be restarting from an earlier fault: this fault then found nothing to terminate
            System.out.println("chaos: terminate found no server: " + e.getMessage());
        }
    }

    /**
     * Waits for the end of the schedule (which fits the run's length, plus up to 5 minutes for slow injections such as
     * bridge restarts) and returns what was injected. The limit follows the schedule: a fixed one cut the long mode
     * short (a 30-minute schedule stopped after 5 minutes).
     */
    List<Injected> awaitEnd() throws InterruptedException {
        long planned = schedule.stream()
                .mapToLong(p -> p.delayMillis() + p.holdMillis())
                .sum();
        thread.join(planned + 300_000);
        stopping = true;
        thread.join(60_000);
        if (failure != null) {
            throw new IllegalStateException("the nemesis failed", failure);
        }
        return injected;
    }
}
