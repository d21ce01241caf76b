package io.pgbridge.internal.outbox;

import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.OutboxOptions;
import io.pgbridge.SourceState;
import io.pgbridge.internal.Closing;
import io.pgbridge.internal.Reconnection;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.pipeline.Backoff;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.SourceContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polling mode of the outbox: works on any PostgreSQL, without logical replication.
 *
 * <p>The source claims the oldest events of the stream that carry no live lease ({@code FOR UPDATE SKIP LOCKED}
 * while the claiming statement runs, then {@code claimed_until}/{@code claimed_by}), in one statement that commits at
 * once: no transaction stays open while a sink works or is down. It hands the events to the pipeline, renews their
 * lease every third of {@code outbox.lease-ms} until every one is confirmed by its sinks (or dead-lettered), then
 * deletes them. So an event leaves the table only after delivery, and several bridge instances share the work without
 * delivering an event concurrently: a row under a live lease is not claimed by another. The rows of a bridge that
 * crashed, or could not renew its lease, are claimed again by any bridge once the lease expires (at least once).
 * Between polls the source waits for a NOTIFY wake-up (sent by the events table's trigger while this stream's
 * {@code streams.wakeup_channel} is set), at most {@code outbox.poll-interval-ms}. The source sets the channel only
 * while it waits, and clears it while it has work and when it closes: a NOTIFY serialises the commits of the
 * transactions that send it (PostgreSQL holds a database-wide lock from the start of such a commit to its end), so
 * under load the application sends none. An event committed just as the source went back to waiting may wait up to
 * one poll interval.
 *
 * <p>Every statement runs with {@link OutboxTables#LOCK_TIMEOUT}: when an application holds a conflicting lock, the
 * poll gives up and is retried at the next interval, rather than queue the application's writes behind it.
 *
 * <p>Order: one instance delivers in id order, which is insert order; concurrent producer transactions may commit in
 * another order, and several instances deliver interleaved. Streaming mode delivers in commit order.
 */
final class PollingOutboxSource implements EventSource {
    private static final Logger log = LoggerFactory.getLogger(PollingOutboxSource.class);

    private final PostgresConnector postgres;
    private final OutboxTables tables;
    private final long streamId;
    private final int pollMillis;
    private final int batchSize;
    private final long leaseMillis;
    /** This instance's claim token: a lease it holds is renewed only by it. */
    private final String claimToken = UUID.randomUUID().toString();

    private final PartitionMaintenance maintenance;
    private final Backoff reconnectBackoff;
    private final OutboxDeadLetters deadLetters;
    private final ReentrantLock publishing = new ReentrantLock();

    private volatile boolean running;
    private volatile boolean closing;
    private volatile ClaimedBatch current;
    /** Whether this bridge last turned this stream's wake-ups on; only the poller thread uses it. */
    private boolean wakeUpsOn;

    private Connection connection;
    private Thread thread;
    private SourceContext context;

    PollingOutboxSource(PostgresConnector postgres, OutboxTables tables, OutboxOptions options) {
        this.postgres = postgres;
        this.tables = tables;
        this.streamId = options.streamId();
        this.pollMillis = (int) options.pollInterval().toMillis();
        this.batchSize = options.batchSize();
        this.leaseMillis = options.lease().toMillis();
        this.maintenance = new PartitionMaintenance(postgres, tables, options);
        this.reconnectBackoff = new Backoff(Duration.ofMillis(250), options.reconnectMaxBackoff());
        this.deadLetters = OutboxDeadLetters.ifEnabled(postgres, tables, options);
    }

    @Override
    public String name() {
        return "outbox";
    }

    @Override
    public DeadLetterHandler deadLetterHandler() {
        return deadLetters;
    }

    @Override
    public void start(SourceContext context) throws InterruptedException {
        this.context = context;
        try {
            connection = open();
        } catch (SQLException e) {
            throw new ConnectionException(
                    "Cannot read the outbox " + tables.schema() + ".events at " + postgres.describe() + ": "
                            + e.getMessage(),
                    e);
        }
        maintenance.start(context);
        running = true;
        context.state(SourceState.READING, null);
        CountDownLatch started = new CountDownLatch(1);
        thread = context.threadFactory().newThread(() -> {
            started.countDown();
            run();
        });
        thread.setName("pgbridge-outbox-poller-" + streamId);
        thread.start();
        started.await();
        log.info(
                "Polling outbox {}.events, stream {}, at {} (wake-up channel {})",
                tables.schema(),
                streamId,
                postgres.describe(),
                tables.wakeupChannel(streamId));
    }

    private Connection open() throws SQLException {
        // A read that gets no answer within this time fails instead of hanging on a half-open socket.
        int socketTimeoutSeconds = Math.max(30, pollMillis * 3 / 1000);
        Connection c = postgres.connect(Map.of("socketTimeout", Integer.toString(socketTimeoutSeconds)));
        try {
            OutboxTables.limitLockWaits(c);
            tables.requireInstalled(c);
            String channel = tables.wakeupChannel(streamId);
            try (Statement st = c.createStatement()) {
                st.execute("LISTEN " + Identifiers.quote(channel));
            }
            // The wake-ups are turned on by the poller before it first waits, never here: a start neither makes the
            // application's commits send NOTIFYs before there is nothing to do, nor waits for a lock on the row.
            wakeUpsOn = false;
        } catch (SQLException | RuntimeException e) {
            Closing.quietly(c, "the outbox connection");
            throw e;
        }
        return c;
    }

    /**
     * Turns the NOTIFY wake-ups of this stream on (the bridge is about to wait) or off (it is busy). A transaction
     * that sends NOTIFY holds a database-wide lock from its commit's start to its end, so that the application's
     * commits queue behind one another while wake-ups are on: they are on only while a bridge waits for work. Writes
     * only when the channel changes.
     */
    private void setWakeUps(Connection c, boolean on) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(tables.registerWakeup())) {
            st.setLong(1, streamId);
            st.setString(2, on ? tables.wakeupChannel(streamId) : null);
            st.executeUpdate();
        }
        wakeUpsOn = on;
    }

    private void run() {
        while (running) {
            try {
                if (pollOnce() > 0) {
                    continue;
                }
                if (!wakeUpsOn) {
                    // poll once more before waiting: an event committed while wake-ups were off sent none
                    setWakeUps(connection, true);
                } else if (running) {
                    PGNotification[] woken =
                            connection.unwrap(PGConnection.class).getNotifications(pollMillis);
                    if (woken == null || woken.length == 0) {
                        // another bridge of this stream may have turned the wake-ups off (busy, or closed): on again
                        wakeUpsOn = false;
                    }
                }
            } catch (InterruptedException e) {
                if (running) {
                    Thread.currentThread().interrupt();
                    break;
                }
            } catch (SQLException e) {
                if (!running) {
                    break;
                }
                if (OutboxTables.lockNotAvailable(e)) {
                    waitForLock(e);
                } else {
                    reconnect(e);
                }
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                reconnect(e);
            }
        }
        if (wakeUpsOn) {
            try {
                setWakeUps(connection, false); // nobody waits for them any more
            } catch (SQLException e) {
                log.debug("Turning the wake-ups of stream {} off at close failed", streamId, e);
            }
        }
        Closing.quietly(connection, "the outbox connection");
    }

    /** Claims, delivers and deletes one batch; returns how many events it claimed. */
    private int pollOnce() throws SQLException, InterruptedException {
        List<Event> events = claim();
        if (events.isEmpty()) {
            return 0;
        }
        if (wakeUpsOn) {
            setWakeUps(connection, false);
        }
        ClaimedBatch batch = new ClaimedBatch();
        current = batch;
        try {
            handOver(events, batch);
            long renewEvery = leaseMillis / 3;
            long renewAt = System.nanoTime() + renewEvery * 1_000_000L;
            // After stop() the pipeline still drains what it holds; wait for that until close().
            while (!batch.awaitDone(Math.min(pollMillis, renewEvery)) && !closing) {
                // a failing sink is retried by the pipeline; the lease keeps the rows from other bridges meanwhile
                if (System.nanoTime() - renewAt >= 0) {
                    renew(batch);
                    renewAt = System.nanoTime() + renewEvery * 1_000_000L;
                }
            }
            deleteDone(batch);
            if (closing) {
                releaseUndone(batch);
            }
        } finally {
            current = null;
        }
        return events.size();
    }

    /** Claims a batch under a new lease, committed at once; in id order. */
    private List<Event> claim() throws SQLException {
        List<Event> events = new ArrayList<>();
        try (PreparedStatement st = connection.prepareStatement(tables.claim())) {
            st.setLong(1, leaseMillis);
            st.setString(2, claimToken);
            st.setLong(3, streamId);
            st.setInt(4, batchSize);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    events.add(OutboxRows.toEvent(rs));
                }
            }
        }
        events.sort(Comparator.comparingLong(e -> Long.parseLong(e.id())));
        return events;
    }

    /**
     * Extends the lease of the events not done yet. One that expired meanwhile (the renewal came too late, for example
     * after a long stall of this JVM) may have been claimed by another bridge: it is then delivered twice.
     */
    private void renew(ClaimedBatch batch) throws SQLException {
        Long[] pending = batch.pendingIds();
        if (pending.length == 0) {
            return;
        }
        int renewed = 0;
        try (PreparedStatement st = connection.prepareStatement(tables.renewLease())) {
            st.setLong(1, leaseMillis);
            st.setLong(2, streamId);
            st.setString(3, claimToken);
            st.setArray(4, connection.createArrayOf("bigint", pending));
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    renewed++;
                }
            }
        } catch (SQLException e) {
            if (!OutboxTables.lockNotAvailable(e)) {
                throw e;
            }
            log.info("Renewing the lease of {} outbox event(s) waited for a lock; retrying", pending.length);
            return;
        }
        if (renewed < pending.length) {
            log.warn(
                    "{} of {} outbox event(s) claimed by this bridge lost their lease before it was renewed (raise {}):"
                            + " another bridge may deliver them too",
                    pending.length - renewed,
                    pending.length,
                    OutboxSettings.LEASE.envName());
        }
    }

    /** Another session holds a lock the poll needs: poll again after the interval, without reconnecting. */
    private void waitForLock(SQLException cause) {
        log.info(
                "Polling {}.events gave up waiting for a lock after {} ({}); polling again in {} ms",
                tables.schema(),
                OutboxTables.LOCK_TIMEOUT,
                cause.getMessage(),
                pollMillis);
        try {
            connection.unwrap(PGConnection.class).getNotifications(pollMillis);
        } catch (SQLException e) {
            reconnect(e);
        }
    }

    private void handOver(List<Event> events, ClaimedBatch batch) {
        for (Event event : events) {
            long id = Long.parseLong(event.id());
            batch.expect(id);
            publishing.lock();
            try {
                if (!running) {
                    batch.forget(id);
                    continue;
                }
                context.publish(event);
            } catch (InterruptedException e) {
                // stop() interrupted a publish blocked on a full pipeline: this event stays in the table.
                batch.forget(id);
            } finally {
                publishing.unlock();
            }
        }
    }

    /**
     * Closing with events not done (a sink still down): gives their lease up, so that another bridge, or this one
     * restarted, claims them at once instead of after the lease.
     */
    private void releaseUndone(ClaimedBatch batch) throws SQLException {
        Long[] pending = batch.pendingIds();
        if (pending.length == 0) {
            return;
        }
        try (PreparedStatement st = connection.prepareStatement(tables.releaseLease())) {
            st.setLong(1, streamId);
            st.setString(2, claimToken);
            st.setArray(3, connection.createArrayOf("bigint", pending));
            st.executeUpdate();
        }
    }

    /** Deletes the events every sink confirmed (or that were dead-lettered). */
    private void deleteDone(ClaimedBatch batch) throws SQLException {
        Long[] done = batch.takeDone();
        if (done.length == 0) {
            return;
        }
        try (PreparedStatement st = connection.prepareStatement(tables.deleteDelivered())) {
            st.setLong(1, streamId);
            st.setArray(2, connection.createArrayOf("bigint", done));
            st.executeUpdate();
        }
    }

    private void reconnect(Exception cause) {
        context.state(SourceState.RECONNECTING, "outbox connection lost: " + cause.getMessage());
        log.warn(
                "Outbox connection to {} lost ({}); reconnecting. Events claimed but not yet deleted are delivered"
                        + " again once their lease expires",
                postgres.describe(),
                cause.getMessage());
        Closing.quietly(connection, "the outbox connection");
        Connection reopened = Reconnection.retry(
                "Outbox connection to " + postgres.describe(), reconnectBackoff, () -> running, this::open);
        if (reopened != null) {
            connection = reopened;
            context.state(SourceState.READING, null);
        }
    }

    @Override
    public void delivered(Event event) {
        ClaimedBatch batch = current;
        if (batch != null) {
            batch.done(Long.parseLong(event.id()));
        }
    }

    @Override
    public void stop() {
        running = false;
        maintenance.stop();
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        try {
            // publish() blocks while the pipeline is full; after a grace period interrupt it, so that stop() returns
            // and nothing is published afterwards.
            if (!publishing.tryLock(pollMillis, TimeUnit.MILLISECONDS)) {
                t.interrupt();
                publishing.lock();
            }
            publishing.unlock();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        closing = true;
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(pollMillis * 4L + 30_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (deadLetters != null) {
            deadLetters.close();
        }
    }
}
