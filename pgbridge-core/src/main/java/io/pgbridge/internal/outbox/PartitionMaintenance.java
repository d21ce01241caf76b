package io.pgbridge.internal.outbox;

import io.pgbridge.OutboxOptions;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.SourceContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs partition maintenance on its own thread and connection: at once when the source starts (without delaying the
 * start), then every {@code outbox.maintenance-interval-ms}. A run takes the steps {@code
 * <schema>.maintenance_steps(ahead, retention)} lists, each in a transaction of its own, so that no lock is held from
 * one step to the next. Creating a partition ({@code create_partition}) attaches a new table, which takes SHARE UPDATE
 * EXCLUSIVE on the events table: inserts go on. Dropping one ({@code drop_partition}) takes ACCESS EXCLUSIVE, and
 * while that request waits every insert of the application queues behind it; so each step runs with {@code
 * lock_timeout} {@link OutboxTables#DDL_LOCK_TIMEOUT}, and when an application transaction holds the table it gives up
 * and tries again after a random pause (at most {@link #STEP_ATTEMPTS} times); after that the run is retried after
 * {@link #RETRY_MIN_MILLIS} (doubling up to {@link #RETRY_MAX_MILLIS}, never later than the next interval). Any failure
 * is logged, never fatal; the events table's default partition keeps inserts working meanwhile. Several bridges may
 * run it at once (each step takes an advisory lock).
 *
 * <p>Retention never drops a partition that holds an event not delivered yet ({@code <schema>.drop_partitions} keeps
 * it); after each run the partitions kept that way are logged and shown, with the reason, as the source's
 * {@linkplain SourceContext#warning warning} in {@code stats()}, until they can go.
 */
final class PartitionMaintenance {
    private static final Logger log = LoggerFactory.getLogger(PartitionMaintenance.class);
    static final long RETRY_MIN_MILLIS = 1_000;
    static final long RETRY_MAX_MILLIS = 60_000;
    static final int STEP_ATTEMPTS = 20;
    static final long STEP_PAUSE_MIN_MILLIS = 20;
    static final long STEP_PAUSE_MAX_MILLIS = 200;

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private final int ahead;
    private final int retention;
    private final long intervalMillis;
    private final Object lock = new Object();
    private boolean running;
    private Thread thread;
    private SourceContext context;

    PartitionMaintenance(PostgresConnector postgres, OutboxTables tables, OutboxOptions options) {
        this.postgres = postgres;
        this.tables = tables;
        this.ahead = options.partitionsAheadDays();
        this.retention = options.retentionDays();
        this.intervalMillis = options.maintenanceInterval().toMillis();
    }

    /** Starts the maintenance thread, which runs once at once and then on a schedule; returns at once. */
    void start(SourceContext context) {
        this.context = context;
        synchronized (lock) {
            running = true;
        }
        thread = context.threadFactory().newThread(this::loop);
        thread.setName("pgbridge-outbox-maintenance");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        long retryMillis = RETRY_MIN_MILLIS;
        long waitMillis = 0;
        while (pause(waitMillis)) {
            if (runOnce()) {
                retryMillis = RETRY_MIN_MILLIS;
                waitMillis = intervalMillis;
            } else {
                waitMillis = Math.min(retryMillis, intervalMillis);
                retryMillis = Math.min(retryMillis * 2, RETRY_MAX_MILLIS);
            }
        }
    }

    /** Waits, unless stopped; returns whether to run again. */
    private boolean pause(long millis) {
        synchronized (lock) {
            long deadline = System.currentTimeMillis() + millis;
            long left = millis;
            while (running && left > 0) {
                try {
                    lock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                left = deadline - System.currentTimeMillis();
            }
            return running;
        }
    }

    /** One run, each step in a transaction of its own; whether it completed. */
    private boolean runOnce() {
        try (Connection c = postgres.connect()) {
            OutboxTables.limitLockWaits(c, OutboxTables.DDL_LOCK_TIMEOUT);
            List<String[]> steps = new ArrayList<>();
            try (PreparedStatement st = c.prepareStatement(tables.maintenanceSteps())) {
                st.setInt(1, ahead);
                st.setInt(2, retention);
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        steps.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
                    }
                }
            }
            for (String[] step : steps) {
                if (!runStep(c, step[0], step[1], step[2])) {
                    return false;
                }
            }
            reportHeld(c);
            return true;
        } catch (SQLException e) {
            log.warn("Partition maintenance of {}.events failed ({}); retrying later", tables.schema(), e.getMessage());
            return false;
        }
    }

    /**
     * Creates or drops one partition in its own transaction, under {@link OutboxTables#DDL_LOCK_TIMEOUT}; when the lock
     * is not granted in that time (an application transaction holds the table), tries again after a random pause of
     * {@link #STEP_PAUSE_MIN_MILLIS} to {@link #STEP_PAUSE_MAX_MILLIS}, at most {@link #STEP_ATTEMPTS} times. Returns
     * whether the step is done (false: given up, or stopped).
     */
    private boolean runStep(Connection c, String step, String partition, String day) throws SQLException {
        boolean create = "create".equals(step);
        for (int attempt = 1; ; attempt++) {
            try (PreparedStatement st =
                    c.prepareStatement(create ? tables.createPartition() : tables.dropPartition())) {
                if (create) {
                    st.setObject(1, LocalDate.parse(day));
                } else {
                    st.setString(1, partition);
                    st.setInt(2, retention);
                }
                st.execute();
                return true;
            } catch (SQLException e) {
                if (!OutboxTables.lockNotAvailable(e)) {
                    throw e;
                }
                if (attempt == STEP_ATTEMPTS) {
                    log.info(
                            "Partition maintenance of {}.events: {} {} was not granted its lock within {} in {}"
                                    + " attempts (application transactions hold the table); retrying later",
                            tables.schema(),
                            step,
                            partition,
                            OutboxTables.DDL_LOCK_TIMEOUT,
                            STEP_ATTEMPTS);
                    return false;
                }
                if (!pause(ThreadLocalRandom.current().nextLong(STEP_PAUSE_MIN_MILLIS, STEP_PAUSE_MAX_MILLIS + 1))) {
                    return false;
                }
            }
        }
    }

    /** Logs the partitions retention keeps, and shows them in stats() (or clears that when there are none). */
    private void reportHeld(Connection c) throws SQLException {
        c.setAutoCommit(true);
        List<String> reasons = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement(tables.heldPartitions())) {
            st.setInt(1, retention);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    reasons.add(rs.getString(2));
                }
            }
        }
        if (reasons.isEmpty()) {
            context.warning(null);
            return;
        }
        String warning = "retention (" + OutboxSettings.RETENTION.key() + "=" + retention + ") keeps " + reasons.size()
                + " partition(s) of " + tables.schema() + ".events: " + String.join("; ", reasons);
        log.warn("{}; they are dropped once their events are delivered", warning);
        context.warning(warning);
    }

    void stop() {
        synchronized (lock) {
            running = false;
            lock.notifyAll();
        }
    }
}
