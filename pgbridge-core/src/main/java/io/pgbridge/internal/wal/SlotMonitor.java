package io.pgbridge.internal.wal;

import io.pgbridge.internal.Closing;
import io.pgbridge.internal.PgConnector;
import io.pgbridge.spi.PostgresConnector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every interval, on a connection of its own: writes a heartbeat ({@code pg_logical_emit_message} with prefix
 * {@link #PREFIX}, not transactional), so that an idle or filtered database still gives the walsender a position of
 * this database to report and the slot advances (the heartbeat is never an event); then measures the slot's lag,
 * {@code pg_current_wal_lsn() - confirmed_flush_lsn} in bytes, and logs a warning while it is past the threshold.
 */
final class SlotMonitor {
    private static final Logger log = LoggerFactory.getLogger(SlotMonitor.class);
    static final String PREFIX = "pgbridge.heartbeat";
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final PostgresConnector postgres;
    private final String slot;
    private final Duration interval;
    private final long warnBytes;
    private ScheduledExecutorService executor;
    private Connection connection;
    private volatile long lagBytes = -1;
    private long lastWarning;

    SlotMonitor(PostgresConnector postgres, String slot, Duration interval, long warnBytes) {
        this.postgres = postgres;
        this.slot = slot;
        this.interval = interval;
        this.warnBytes = warnBytes;
    }

    void start(ThreadFactory threads) {
        if (interval.isZero()) {
            return;
        }
        executor = Executors.newSingleThreadScheduledExecutor(threads);
        executor.scheduleWithFixedDelay(this::beat, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The slot's lag in bytes at the last measurement, or -1 before the first one (or when turned off). */
    long lagBytes() {
        return lagBytes;
    }

    private void beat() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = postgres.connect(PgConnector.SHORT_STATEMENTS);
            }
            try (PreparedStatement ps =
                    connection.prepareStatement("SELECT pg_logical_emit_message(false, '" + PREFIX + "', '')")) {
                ps.execute();
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                    + "confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        measured(rs.getLong(1));
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn(
                    "Heartbeat for slot {} failed ({}); trying again in {} ms",
                    slot,
                    e.getMessage(),
                    interval.toMillis());
            Closing.quietly(connection, "the heartbeat connection");
            connection = null;
        }
    }

    private void measured(long lag) {
        lagBytes = lag;
        long now = System.nanoTime();
        if (lag > warnBytes && (lastWarning == 0 || now - lastWarning > WARN_EVERY_NANOS)) {
            lastWarning = now;
            log.warn(
                    "Replication slot {} is {} bytes behind the server's WAL (warning threshold {} bytes): PostgreSQL "
                            + "keeps that WAL until the sinks confirm; check the sinks",
                    slot,
                    lag,
                    warnBytes);
        } else if (lag <= warnBytes && lastWarning != 0) {
            lastWarning = 0;
            log.info("Replication slot {} lag is back to {} bytes", slot, lag);
        }
    }

    void stop() {
        if (executor == null) {
            return;
        }
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("Heartbeat thread of slot {} did not stop in 5 s", slot);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Closing.quietly(connection, "the heartbeat connection");
    }
}
