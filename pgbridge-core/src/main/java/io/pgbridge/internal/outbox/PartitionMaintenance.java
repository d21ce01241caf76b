package io.pgbridge.internal.outbox;

import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.Settings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code <schema>.maintain_partitions(ahead, retention)} once at start and then every
 * {@code outbox.maintenance-interval-ms} on its own thread and connection. A failure is logged and retried at the next
 * interval; the events table's default partition keeps inserts working meanwhile. Several bridges may run it at once
 * (the SQL function takes an advisory lock).
 */
final class PartitionMaintenance {
    private static final Logger log = LoggerFactory.getLogger(PartitionMaintenance.class);

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private final int ahead;
    private final int retention;
    private final long intervalMillis;
    private final Object lock = new Object();
    private boolean running;
    private Thread thread;

    PartitionMaintenance(PostgresConnector postgres, OutboxTables tables, Settings settings) {
        this.postgres = postgres;
        this.tables = tables;
        this.ahead = (int) settings.integer(OutboxSettings.PARTITIONS_AHEAD);
        this.retention = (int) settings.integer(OutboxSettings.RETENTION);
        this.intervalMillis =
                settings.duration(OutboxSettings.MAINTENANCE_INTERVAL).toMillis();
    }

    /** Runs once now (so that today's partition exists before the first event), then on a schedule. */
    void start(ThreadFactory threads) {
        runOnce();
        synchronized (lock) {
            running = true;
        }
        thread = threads.newThread(this::loop);
        thread.setName("pgbridge-outbox-maintenance");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (true) {
            synchronized (lock) {
                long deadline = System.currentTimeMillis() + intervalMillis;
                long left = intervalMillis;
                while (running && left > 0) {
                    try {
                        lock.wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    left = deadline - System.currentTimeMillis();
                }
                if (!running) {
                    return;
                }
            }
            runOnce();
        }
    }

    private void runOnce() {
        try (Connection c = postgres.connect();
                PreparedStatement st = c.prepareStatement(tables.maintainPartitions())) {
            st.setInt(1, ahead);
            st.setInt(2, retention);
            st.execute();
        } catch (SQLException e) {
            log.warn(
                    "Partition maintenance of {}.events failed ({}); next attempt in {} ms",
                    tables.schema(),
                    e.getMessage(),
                    intervalMillis);
        }
    }

    void stop() {
        synchronized (lock) {
            running = false;
            lock.notifyAll();
        }
    }
}
