package io.pgbridge.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Samples, every {@code intervalMillis}, what the writers' backends wait for ({@code pg_stat_activity} wait events of
 * active sessions of one application name) and, for a heavyweight lock wait, which statement holds or queues ahead for
 * the lock ({@code pg_blocking_pids}). Shows whether a latency increase is a lock queue behind pgbridge, or something
 * else (WAL writes, CPU: no wait event at all).
 */
final class WaitSampler implements AutoCloseable {
    private final Thread thread;
    private final Map<String, Integer> waits = new HashMap<>();
    private final Map<String, Integer> blockers = new HashMap<>();
    private int samples;
    private int maxLockWaiters;
    private volatile boolean running = true;

    WaitSampler(Connection c, String application, long intervalMillis) throws SQLException {
        // A blocker that is another writer is shown as such, with what it does while it holds the lock.
        PreparedStatement st = c.prepareStatement("select a.wait_event_type || ':' || a.wait_event, case when"
                + " a.wait_event_type = 'Lock' then (select string_agg(distinct case when b.application_name = ? then"
                + " 'another writer (' || coalesce(b.wait_event_type || ':' || b.wait_event, 'on CPU') || ')' else"
                + " coalesce(nullif(b.application_name, ''), b.backend_type) || ': ' || left(regexp_replace(b.query,"
                + " '\\s+', ' ', 'g'), 100) end, ' | ') from pg_stat_activity b where b.pid = any(pg_blocking_pids("
                + "a.pid))) end from pg_stat_activity a where a.application_name = ? and a.state = 'active'"
                + " and a.wait_event_type is not null and a.wait_event_type <> 'Client'");
        st.setString(1, application);
        st.setString(2, application);
        thread = new Thread(() -> {
            try (c;
                    st) {
                while (running) {
                    int lockWaiters = 0;
                    Map<String, Integer> w = new HashMap<>();
                    Map<String, Integer> b = new HashMap<>();
                    try (ResultSet rs = st.executeQuery()) {
                        while (rs.next()) {
                            w.merge(rs.getString(1), 1, Integer::sum);
                            if (rs.getString(2) != null) {
                                lockWaiters++;
                                b.merge(rs.getString(2), 1, Integer::sum);
                            }
                        }
                    }
                    synchronized (this) {
                        samples++;
                        w.forEach((k, v) -> waits.merge(k, v, Integer::sum));
                        b.forEach((k, v) -> blockers.merge(k, v, Integer::sum));
                        maxLockWaiters = Math.max(maxLockWaiters, lockWaiters);
                    }
                    Thread.sleep(intervalMillis); // the sampling period
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        thread.setName("wait-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    synchronized void reset() {
        samples = 0;
        maxLockWaiters = 0;
        waits.clear();
        blockers.clear();
    }

    /** What was sampled since the last reset, as lines to print; resets. */
    synchronized String takeSummary() {
        String text = String.format(
                        Locale.ROOT,
                        "  waits over %d samples (writer-samples per wait event; max writers waiting on a lock at once:"
                                + " %d): %s",
                        samples,
                        maxLockWaiters,
                        top(waits))
                + (blockers.isEmpty() ? "" : "\n  lock waits behind: " + top(blockers));
        reset();
        return text;
    }

    private static String top(Map<String, Integer> counts) {
        if (counts.isEmpty()) {
            return "none";
        }
        return counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .limit(6)
                .map(e -> e.getValue() + " x " + e.getKey())
                .collect(Collectors.joining("; "));
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join();
    }
}
