package io.pgbridge.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Sends numbered notifications in transactions of a fixed size, as fast as one session can, and reads them back on
 * the receiving side. Each payload is {@code <number>:<microseconds since the epoch>}, the time taken by {@code
 * clock_timestamp()} as the notification was queued: a NOTIFY has no commit time, so latency is measured from this
 * time, which precedes the commit by at most the rest of its transaction (a few milliseconds for 1,000 notifications).
 */
final class NotifyProducer {
    private NotifyProducer() {}

    /**
     * Sends notifications 1..count on {@code channel}, {@code perTransaction} per transaction.
     *
     * @return notifications per second
     */
    static double send(Connection c, String channel, int count, int perTransaction) throws SQLException {
        long start = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement("SELECT count(pg_notify(?, g || ':'"
                + " || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)) FROM generate_series(?, ?) g")) {
            ps.setString(1, channel);
            for (int first = 1; first <= count; first += perTransaction) {
                ps.setInt(2, first);
                ps.setInt(3, Math.min(count, first + perTransaction - 1));
                ps.executeQuery().close(); // auto-commit: one transaction per statement
            }
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    /** The number of a payload {@link #send} wrote. */
    static String id(String payload) {
        return payload.substring(0, payload.indexOf(':'));
    }

    /** The time a payload {@link #send} wrote carries. */
    static Instant sentAt(String payload) {
        long micros = Long.parseLong(payload.substring(payload.indexOf(':') + 1));
        return Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1_000);
    }
}
