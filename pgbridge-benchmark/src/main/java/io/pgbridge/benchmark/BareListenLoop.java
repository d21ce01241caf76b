package io.pgbridge.benchmark;

import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The baseline of the NOTIFY path: a bare pgjdbc loop that LISTENs on one channel and blocks in {@link
 * PGConnection#getNotifications(int)} until {@code count} notifications of {@link NotifyProducer} arrived, nothing
 * else (no events, no pipeline).
 */
final class BareListenLoop {
    private BareListenLoop() {}

    static void run(JdbcTarget target, String channel, Measurements m, long count, Runnable ready) throws Exception {
        try (Connection c = target.connect()) {
            c.createStatement().execute("LISTEN " + channel);
            PGConnection pg = c.unwrap(PGConnection.class);
            ready.run();
            long seen = 0;
            while (seen < count) {
                PGNotification[] batch = pg.getNotifications(0); // 0: blocks until some arrive
                List<String> ids = new ArrayList<>(batch.length);
                List<Instant> sent = new ArrayList<>(batch.length);
                for (PGNotification n : batch) {
                    ids.add(NotifyProducer.id(n.getParameter()));
                    sent.add(NotifyProducer.sentAt(n.getParameter()));
                }
                m.confirmed(ids, sent);
                seen += batch.length;
            }
        }
    }
}
