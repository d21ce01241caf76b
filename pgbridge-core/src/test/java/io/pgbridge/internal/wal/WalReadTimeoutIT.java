package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.SourceState;
import io.pgbridge.SourceStats;
import io.pgbridge.Target;
import io.pgbridge.TestSink;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.testkit.TcpRelay;
import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The replication connection's read timeout ({@code wal.read-timeout-ms}): a network path that goes silent in the
 * middle of a large transaction (no FIN, no RST, as a dead NAT entry) ends the blocking read inside the transaction,
 * the source reconnects, and the transaction is read again: every row arrives and the slot confirms the commit. Without
 * the timeout the reader would wait until the server's end of the path closed, a {@code wal_sender_timeout} (1 min by
 * default) later, or for ever where that close never reaches it.
 */
class WalReadTimeoutIT {
    private static final int ROWS = 200_000;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    /** Events in flight at most: the reader waits for room mid-transaction while the sink holds. */
    private static final int BUFFER_MAX_EVENTS = 2_000;
    /** Events the sink takes before it holds: the path freezes while the reader is inside the transaction. */
    private static final int HOLD_AFTER = 10_000;

    @Test
    void aPathSilentMidTransactionEndsInAReconnectAndEveryRowArrives() throws Exception {
        URI pg = URI.create(TestServices.postgresUrl());
        try (WalFixture db = new WalFixture();
                TcpRelay relay = new TcpRelay(pg.getHost(), pg.getPort() > 0 ? pg.getPort() : 5432)) {
            String table = db.schema + ".payments";
            db.exec("CREATE TABLE " + table
                    + " (id int PRIMARY KEY, paid_at timestamptz NOT NULL, amount numeric(12, 2)"
                    + " NOT NULL, ref uuid NOT NULL, details jsonb NOT NULL, note text NOT NULL)");
            String viaRelay = pg.getScheme() + "://" + (pg.getRawUserInfo() == null ? "" : pg.getRawUserInfo() + "@")
                    + "127.0.0.1:" + relay.port() + pg.getRawPath();
            RowSink sink = new RowSink();
            try (PgBridge bridge = db.bridge(table + "->queue:payments", sink)
                    .postgres(viaRelay)
                    .setting("wal.read-timeout-ms", Long.toString(READ_TIMEOUT.toMillis()))
                    // no heartbeat and no backfill requests: the replication connection is the only one open through
                    // the relay, so the freeze hits it alone
                    .setting("wal.heartbeat-interval-ms", "0")
                    .setting("wal.backfill-requests", "none")
                    .bufferMaxEvents(BUFFER_MAX_EVENTS)
                    .build()) {
                bridge.start();
                int walsender = db.walsenderPid();
                assertThat(walsender)
                        .as("the walsender streaming to the bridge")
                        .isNotZero();
                db.exec("INSERT INTO " + table + " SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s',"
                        + " round((g % 100000) * 1.37, 2), gen_random_uuid(), jsonb_build_object('customer', 'c' ||"
                        + " g % 1000, 'items', g % 7, 'tags', jsonb_build_array('card', 'eu')), 'payment ' || g || ' '"
                        + " || md5(g::text) FROM generate_series(1, " + ROWS + ") g");

                int connections;
                Instant frozen;
                try {
                    assertThat(sink.held.await(60, TimeUnit.SECONDS))
                            .as("the sink took %d events", HOLD_AFTER)
                            .isTrue();
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> bridge.stats().inFlightEvents() >= BUFFER_MAX_EVENTS);
                    connections = relay.connectionsAccepted();
                    relay.freezeExisting();
                    frozen = Instant.now();
                } finally {
                    sink.release.countDown(); // also when the test failed, so that the bridge can close
                }

                // well below wal_sender_timeout (60 s), after which the server's end of the path would close
                SourceStats lost = await("the WAL source reconnecting after its read timeout")
                        .atMost(READ_TIMEOUT.plusSeconds(15))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> bridge.stats().sources().get(0), s -> s.state() == SourceState.RECONNECTING);
                assertThat(Duration.between(frozen, lost.since()))
                        .as("time from the freeze to the reconnect (%s)", lost.reason())
                        .isBetween(READ_TIMEOUT, READ_TIMEOUT.plusSeconds(10));
                assertThat(lost.reason()).as("why the source reconnects").contains("wal.read-timeout-ms (2000 ms)");
                assertThat(sink.distinctRows())
                        .as("rows delivered when the source reconnected, mid-transaction")
                        .isLessThan(ROWS);

                // On a dead path the old walsender would hold the slot until the server's wal_sender_timeout. The
                // relay passes the bridge's close of its end on to the server; the test does not rely on that.
                terminate(db, walsender);
                await("every row of the transaction delivered")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> sink.distinctRows() == ROWS);
                assertThat(relay.connectionsAccepted())
                        .as("a new replication connection")
                        .isGreaterThan(connections);
                long commit = sink.position();
                await("confirmed_flush_lsn past the transaction's commit")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> db.confirmedFlush() > commit);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> bridge.stats().sources().get(0).state() == SourceState.READING);
            }
        }
    }

    private static void terminate(WalFixture db, int pid) throws SQLException {
        try (PreparedStatement ps = db.sql.prepareStatement("SELECT pg_terminate_backend(?)")) {
            ps.setInt(1, pid);
            ps.execute();
        }
    }

    /**
     * Records the ids of the rows delivered (one table, all in one transaction) and confirms at once; holds the
     * delivery once it has taken {@link #HOLD_AFTER} events, until released.
     */
    private static final class RowSink extends TestSink {
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final BitSet rows = new BitSet(ROWS + 1);
        private long delivered;
        private long position;

        RowSink() {
            super("rows");
        }

        @Override
        public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
            if (delivered() >= HOLD_AFTER) {
                held.countDown();
                release.await();
            }
            synchronized (this) {
                for (Event e : events) {
                    rows.set(WalFixture.json(e).get("new").get("id").asInt());
                    position = e.position();
                }
                delivered += events.size();
            }
            return PublishResult.confirmed(events.size());
        }

        synchronized int distinctRows() {
            return rows.cardinality();
        }

        synchronized long delivered() {
            return delivered;
        }

        /** The position (commit LSN) of the last event delivered. */
        synchronized long position() {
            return position;
        }
    }
}
