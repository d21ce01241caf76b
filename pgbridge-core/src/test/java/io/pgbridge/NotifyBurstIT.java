package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The NOTIFY source against a real PostgreSQL when the pipeline is full: it waits for room while the pipeline refuses
 * notifications for less than {@code notify.max-wait-ms} in a row (and PostgreSQL's notification queue has room), so a
 * burst into a sink slower than the burst arrives whole; past that bound it drops, and counts what it dropped.
 */
class NotifyBurstIT {
    private static final int PER_TRANSACTION = 1_000;

    private final String channel = "burst_" + UUID.randomUUID().toString().substring(0, 8);
    private final InMemorySink sink = new InMemorySink();
    private PgBridge bridge;

    @AfterEach
    void close() {
        if (bridge != null) {
            bridge.close();
        }
    }

    @Test
    void aBurstIntoASlowSinkIsDeliveredWithoutDrops() throws Exception {
        int burst = 50_000;
        // 50 µs an event: 20,000 events a second, a tenth of the rate one session sends notifications at
        Sink slow = new SlowSink(sink, 50_000);
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes(channel + "->queue:q")
                .sink(slow)
                .bufferMaxEvents(1_000)
                .build();
        bridge.start();

        sendNotifications(burst);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(sink.payloads())
                .as("every notification of the burst arrived")
                .hasSize(burst));
        assertThat(sink.payloads())
                .as("in the order sent, once each")
                .containsExactlyElementsOf(IntStream.rangeClosed(1, burst)
                        .mapToObj(Integer::toString)
                        .toList());
        SourceStats notify = bridge.stats().sources().get(0);
        assertThat(notify.dropped()).as("dropped").isZero();
        assertThat(notify.received()).as("received").isEqualTo(burst);
    }

    @Test
    void dropsAndCountsOnceThePipelineRefusedNotificationsForLongerThanTheWaitBound() throws Exception {
        int buffer = 100;
        int sent = 1_000;
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes(channel + "->queue:q")
                .sink(sink)
                .bufferMaxEvents(buffer)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .setting("notify.max-wait-ms", "300")
                .build();
        bridge.start();
        sink.setAvailable(false);

        sendNotifications(sent);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            SourceStats notify = bridge.stats().sources().get(0);
            assertThat(notify.received() + notify.dropped())
                    .as("every notification was read: handed over or dropped")
                    .isEqualTo(sent);
            assertThat(notify.dropped())
                    .as("what did not fit in the %d-event buffer while the sink was down", buffer)
                    .isEqualTo(sent - buffer);
        });
        sink.setAvailable(true);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(sink.payloads())
                .as("the notifications the buffer held, once the sink is back")
                .containsExactlyElementsOf(IntStream.rangeClosed(1, buffer)
                        .mapToObj(Integer::toString)
                        .toList()));
    }

    @Test
    void dropsAtOnceWhilePostgresqlsNotificationQueueIsFullerThanTheBound() throws Exception {
        int buffer = 100;
        int sent = 1_000;
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes(channel + "->queue:q")
                .sink(sink)
                .bufferMaxEvents(buffer)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .setting("notify.max-wait-ms", "60000")
                .setting("notify.max-queue-usage-percent", "1")
                .build();
        bridge.start();
        sink.setAvailable(false);
        // A session that LISTENs and stays in a transaction keeps every notification in the queue (NOTIFY reference
        // page): 13,000 of 7,900 bytes (distinct: PostgreSQL folds equal ones of one transaction) fill a
        // bit more than 1% of the 8 GB queue.
        try (Connection holder = TestServices.postgresConnection();
                Connection filler = TestServices.postgresConnection()) {
            holder.createStatement().execute("LISTEN " + channel + "_hold");
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1");
            try (PreparedStatement fill = filler.prepareStatement(
                    "SELECT count(pg_notify(?, g || repeat('x', 7900))) FROM generate_series(1, 1000) g")) {
                fill.setString(1, channel + "_hold");
                for (int i = 0; i < 13; i++) {
                    fill.executeQuery().close();
                }
            }
            try (ResultSet rs = filler.createStatement().executeQuery("SELECT pg_notification_queue_usage()")) {
                rs.next();
                assertThat(rs.getDouble(1)).as("queue usage").isGreaterThanOrEqualTo(0.01);
            }

            sendNotifications(sent);

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                SourceStats notify = bridge.stats().sources().get(0);
                assertThat(notify.received() + notify.dropped())
                        .as("every notification was read, long before the 60 s wait bound")
                        .isEqualTo(sent);
                assertThat(notify.dropped())
                        .as("what did not fit in the %d-event buffer", buffer)
                        .isEqualTo(sent - buffer);
            });
            holder.rollback();
        }
        sink.setAvailable(true);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(sink.payloads())
                .as("the notifications the buffer held, once the sink is back")
                .hasSize(buffer));
    }

    /** Sends notifications 1..count on the channel, {@link #PER_TRANSACTION} per transaction, as fast as it can. */
    private void sendNotifications(int count) throws SQLException {
        try (Connection c = TestServices.postgresConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT count(pg_notify(?, g::text)) FROM generate_series(?, ?) g")) {
            c.setAutoCommit(true);
            ps.setString(1, channel);
            for (int first = 1; first <= count; first += PER_TRANSACTION) {
                ps.setInt(2, first);
                ps.setInt(3, Math.min(count, first + PER_TRANSACTION - 1));
                ps.executeQuery().close();
            }
        }
    }

    /** A sink that takes {@code nanosPerEvent} for each event before it hands the batch on: a slow broker. */
    private record SlowSink(Sink delegate, long nanosPerEvent) implements Sink {
        @Override
        public String name() {
            return "slow";
        }

        @Override
        public Set<String> targetKinds() {
            return delegate.targetKinds();
        }

        @Override
        public void start() {
            delegate.start();
        }

        @Override
        public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
            LockSupport.parkNanos(nanosPerEvent * events.size());
            return delegate.publish(target, events);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
