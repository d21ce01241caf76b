package io.pgbridge.internal.outbox;

import io.pgbridge.OutboxOptions;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.SourceContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code <schema>.maintain_partitions(ahead, retention)} on its own thread and connection: at once when the
 * source starts (without delaying the start), then every {@code outbox.maintenance-interval-ms}. Creating or dropping
 * a partition needs an ACCESS EXCLUSIVE lock on the events table, and while that request waits every insert of the
 * application queues behind it; so the run's session sets {@code lock_timeout} to {@link OutboxTables#LOCK_TIMEOUT}
 * and, when an application transaction holds the table, gives up and retries after {@link #RETRY_MIN_MILLIS} (doubling
 * up to {@link #RETRY_MAX_MILLIS}, never later than the next interval). Any failure is logged, never fatal; the events
 * table's default partition keeps inserts working meanwhile. Several bridges may run it at once (the SQL function
 * takes an advisory lock).
 *
 * <p>Retention never drops a partition that holds an event not delivered yet ({@code <schema>.drop_partitions} keeps
 * it); after each run the partitions kept that way are logged and shown, with the reason, as the source's
 * {@linkplain SourceContext#warning warning} in {@code stats()}, until they can go.
 */
final class PartitionMaintenance {
    private static final Logger log = LoggerFactory.getLogger(PartitionMaintenance.class);
    static final long RETRY_MIN_MILLIS = 1_000;
    static final long RETRY_MAX_MILLIS = 60_000;

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

    /** One run; whether it completed. */
    private boolean runOnce() {
        try (Connection c = postgres.connect()) {
            OutboxTables.limitLockWaits(c);
            c.setAutoCommit(false);
            try (PreparedStatement st = c.prepareStatement(tables.maintainPartitions())) {
                st.setInt(1, ahead);
                st.setInt(2, retention);
                st.execute();
            }
            c.commit();
            reportHeld(c);
            return true;
        } catch (SQLException e) {
            if (OutboxTables.lockNotAvailable(e)) {
                log.info(
                        "Partition maintenance of {}.events gave up waiting for a lock after {} (an application"
                                + " transaction holds the table); retrying later",
                        tables.schema(),
                        OutboxTables.LOCK_TIMEOUT);
            } else {
                log.warn(
                        "Partition maintenance of {}.events failed ({}); retrying later",
                        tables.schema(),
                        e.getMessage());
            }
            return false;
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
