package io.pgbridge.benchmark;

import java.nio.ByteBuffer;
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
     * @param rate the offered load, notifications per second; 0: as fast as the session can
     * @return notifications per second
     */
    static double send(Connection c, String channel, int count, int perTransaction, double rate) throws SQLException {
        long start = System.nanoTime();
        Pace pace = new Pace(rate);
        try (PreparedStatement ps = c.prepareStatement("SELECT count(pg_notify(?, g || ':'"
                + " || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)) FROM generate_series(?, ?) g")) {
            ps.setString(1, channel);
            for (int first = 1; first <= count; first += perTransaction) {
                pace.awaitDue(first - 1);
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
        return instant(Long.parseLong(payload, payload.indexOf(':') + 1, payload.length(), 10));
    }

    /**
     * The number of a payload {@link #send} wrote, read from its UTF-8 bytes as pgbridge's sinks get them: the same
     * allocation as {@link #id(String)} (one string), so that measuring costs both readers the same.
     */
    static String id(ByteBuffer payload) {
        return Long.toString(digits(payload, 0, indexOfColon(payload)));
    }

    /** The time a payload {@link #send} wrote carries, read from its UTF-8 bytes. */
    static Instant sentAt(ByteBuffer payload) {
        return instant(digits(payload, indexOfColon(payload) + 1, payload.limit()));
    }

    private static int indexOfColon(ByteBuffer payload) {
        for (int i = 0; i < payload.limit(); i++) {
            if (payload.get(i) == ':') {
                return i;
            }
        }
        throw new IllegalArgumentException("not a payload of NotifyProducer: no ':'");
    }

    private static long digits(ByteBuffer payload, int from, int to) {
        long value = 0;
        for (int i = from; i < to; i++) {
            value = value * 10 + (payload.get(i) - '0');
        }
        return value;
    }

    private static Instant instant(long micros) {
        return Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1_000);
    }
}
