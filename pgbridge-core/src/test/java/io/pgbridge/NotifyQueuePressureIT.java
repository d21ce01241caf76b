package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * While the sink is down for a minute under a steady NOTIFY load, the bridge keeps reading: PostgreSQL's notification
 * queue (one for the whole cluster, shared with every application, whose filling makes {@code NOTIFY} fail at commit)
 * stays empty, the application's NOTIFY never fails, and what does not fit in the pipeline is dropped and counted.
 */
class NotifyQueuePressureIT {
    /** A minute of the load below: 2,000 notifications a second. */
    private static final long DURING_THE_OUTAGE = 120_000;

    private static final int PER_TRANSACTION = 100;
    private static final String PAYLOAD = "x".repeat(1500);

    private final String channel = "pressure_" + UUID.randomUUID().toString().substring(0, 8);
    private final InMemorySink sink = new InMemorySink();
    private final ScheduledExecutorService producer = Executors.newScheduledThreadPool(2);
    private final List<Throwable> notifyFailures = new CopyOnWriteArrayList<>();
    private final AtomicLong sent = new AtomicLong();
    private volatile double maxQueueUsage;
    private PgBridge bridge;

    @AfterEach
    void close() throws InterruptedException {
        producer.shutdownNow();
        producer.awaitTermination(10, TimeUnit.SECONDS);
        if (bridge != null) {
            bridge.close();
        }
    }

    @Test
    void theNotificationQueueStaysEmptyAndNotifyNeverFailsWhileTheSinkIsDown() throws Exception {
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes(channel + "->queue:q")
                .sink(sink)
                .bufferMaxEvents(2_000)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build();
        bridge.start();
        sink.setAvailable(false);
        Connection app = TestServices.postgresConnection();
        Connection monitor = TestServices.postgresConnection();
        try {
            // 2,000 notifications of 1.5 kB a second: 180 MB a minute in the queue if nobody read them
            producer.scheduleAtFixedRate(() -> notifyBatch(app), 0, 50, TimeUnit.MILLISECONDS);
            producer.scheduleAtFixedRate(() -> sampleQueue(monitor), 0, 250, TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofMinutes(3)).until(() -> sent.get() >= DURING_THE_OUTAGE);
            sink.setAvailable(true);
            producer.shutdown();
            assertThat(producer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

            assertThat(notifyFailures)
                    .as("the application's NOTIFY never failed")
                    .isEmpty();
            assertThat(maxQueueUsage)
                    .as("pg_notification_queue_usage() stayed near 0 (180 MB would be 2%% of the 8 GB queue)")
                    .isLessThan(0.002);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                SourceStats notify = bridge.stats().sources().get(0);
                assertThat(notify.received() + notify.dropped())
                        .as("every notification was read: handed over or dropped")
                        .isEqualTo(sent.get());
                assertThat(notify.dropped())
                        .as("dropped while the pipeline was full")
                        .isPositive();
                assertThat(sink.payloads()).hasSize((int) notify.received());
            });
        } finally {
            app.close();
            monitor.close();
        }
    }

    private void notifyBatch(Connection app) {
        try (PreparedStatement st = app.prepareStatement(
                "SELECT pg_notify(?, ? || g) FROM generate_series(1, " + PER_TRANSACTION + ") g")) {
            st.setString(1, channel);
            st.setString(2, PAYLOAD);
            st.execute();
            sent.addAndGet(PER_TRANSACTION);
        } catch (SQLException e) {
            notifyFailures.add(e);
        }
    }

    private void sampleQueue(Connection monitor) {
        try (Statement st = monitor.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_notification_queue_usage()")) {
            rs.next();
            maxQueueUsage = Math.max(maxQueueUsage, rs.getDouble(1));
        } catch (SQLException e) {
            notifyFailures.add(e);
        }
    }
}
