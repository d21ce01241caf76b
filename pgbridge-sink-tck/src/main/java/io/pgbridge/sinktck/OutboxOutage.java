package io.pgbridge.sinktck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.PgBridge;
import io.pgbridge.sql.PgBridgeSchema;
import io.pgbridge.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * The outbox with a sink's broker stopped for a while under a steady stream of {@code pgbridge.send}: the part every
 * sink's outbox outage test shares. It installs an outbox schema of its own, sends {@link #TOTAL} events on channel
 * {@code events} ({@code {"seq": n}}, routing key {@link #routingKey}, W3C trace context {@link #traceparent} and
 * {@link #tracestate} as headers), 10 ms
 * apart: the first 100, then, once the bridge delivered 50 of them and the broker is stopped, the rest; it starts the
 * broker again once 50 more are committed, and waits until the bridge delivered every one. The test then reads what its broker holds. {@link #close()} drops the schema,
 * the slot and the publication.
 */
public final class OutboxOutage implements AutoCloseable {
    /** Events sent. */
    public static final int TOTAL = 300;

    private static final int BEFORE_OUTAGE = 100;
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Pattern SEQ = Pattern.compile("\"seq\": (\\d+)");

    private final String schema;
    private final Connection pg;

    private OutboxOutage(String schema, Connection pg) {
        this.schema = schema;
        this.pg = pg;
    }

    /** An outbox schema named {@code prefix} and a random suffix, installed on the test PostgreSQL. */
    public static OutboxOutage install(String prefix) throws SQLException {
        String schema = prefix + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
        PgBridgeSchema.migrate(TestServices.postgresDataSource(), schema);
        return new OutboxOutage(schema, TestServices.postgresConnection());
    }

    /** The outbox schema's name, also a unique name for the test's topic, queue or stream. */
    public String schema() {
        return schema;
    }

    /**
     * A bridge builder for this outbox: PostgreSQL, the upstream, the route, {@code outbox.mode}, a replay after 300 ms
     * of failures (so that streaming goes through checkpoint and replay), short retry backoffs; the test adds its
     * sink's settings and builds it.
     */
    public PgBridge.Builder builder(String upstream, String route, String mode) {
        return PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(upstream)
                .routes(route)
                .source("outbox")
                .setting("outbox.schema", schema)
                .setting("outbox.mode", mode)
                .setting("outbox.replay-after-ms", "300")
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(5));
    }

    /** Sends every event through an outage of {@code broker}, and waits until {@code bridge} delivered them all. */
    public void sendThroughAnOutage(PgBridge bridge, TestServices.Service broker) throws Exception {
        AtomicInteger sent = new AtomicInteger();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread producer = new Thread(() -> {
            try (Connection c = TestServices.postgresConnection();
                    Statement st = c.createStatement()) {
                for (int i = 1; i <= TOTAL; i++) {
                    if (i == BEFORE_OUTAGE + 1) {
                        stopped.await(); // the rest goes into the outage, however long stopping the broker takes
                    }
                    send(st, i);
                    sent.set(i);
                    Thread.sleep(10); // a steady stream through the outage
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        producer.start();
        await().atMost(WAIT).until(() -> bridge.stats().delivered() >= 50);
        try {
            TestServices.stop(broker);
            stopped.countDown();
            await().atMost(WAIT).until(() -> sent.get() >= BEFORE_OUTAGE + 50);
        } finally {
            stopped.countDown();
            TestServices.start(broker);
        }
        producer.join(WAIT.toMillis());
        assertThat(sent.get()).as("events committed").isEqualTo(TOTAL);
        await().atMost(WAIT).until(() -> bridge.stats().delivered() >= TOTAL);
    }

    /** Sends events 1 to {@code count} as the outage does (the same payload, routing key and headers), at once. */
    public void send(int count) throws SQLException {
        try (Statement st = pg.createStatement()) {
            for (int i = 1; i <= count; i++) {
                send(st, i);
            }
        }
    }

    private void send(Statement st, int seq) throws SQLException {
        st.execute("select " + schema + ".send('events', '{\"seq\": " + seq + "}'::jsonb, '" + routingKey(seq)
                + "', '{\"traceparent\": \"" + traceparent(seq) + "\", \"tracestate\": \"" + tracestate(seq)
                + "\"}'::jsonb)");
    }

    /** The {@code seq} of a delivered payload; fails the test when it holds none. */
    public static int seq(byte[] payload) {
        Matcher m = SEQ.matcher(new String(payload, StandardCharsets.UTF_8));
        assertThat(m.find()).as("payload holds seq").isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** The routing key event {@code seq} was sent with. */
    public static String routingKey(int seq) {
        return "customer-" + (seq % 7);
    }

    /** The W3C trace context event {@code seq} was sent with, as its {@code traceparent} header. */
    public static String traceparent(int seq) {
        return "00-" + String.format("%032x", seq) + "-00f067aa0ba902b7-01";
    }

    /** The W3C {@code tracestate} event {@code seq} was sent with, beside its {@link #traceparent}. */
    public static String tracestate(int seq) {
        return "pgbridge=s" + seq + ",congo=t61rcWkgMzE";
    }

    /**
     * Sends events 1 to {@code count} through the started {@code bridge}, waits up to 30 s until {@code receiver} has
     * at least that many messages, and asserts that they are those events, in order, each with the {@link
     * #traceparent} and {@link #tracestate} it was sent with among its {@link Received#headers()}.
     *
     * @param carriedAs how the protocol carries the headers (for example {@code "user properties"}), for the messages
     */
    public void sendAndAssertTraceContext(PgBridge bridge, Receiver receiver, int count, String carriedAs)
            throws SQLException {
        send(count);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(receiver.received())
                .as("received; %s", bridge.stats())
                .hasSizeGreaterThanOrEqualTo(count));
        List<Received> received = receiver.received();
        for (Received r : received) {
            int seq = seq(r.payload());
            assertThat(r.headers())
                    .as("%s of event %d", carriedAs, seq)
                    .containsEntry("traceparent", traceparent(seq))
                    .containsEntry("tracestate", tracestate(seq));
        }
        assertThat(received)
                .extracting(r -> seq(r.payload()))
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, count).boxed().toList());
    }

    /** Waits until the outbox's slot is released, then drops it, its publication and the schema. */
    @Override
    public void close() throws SQLException {
        String slot = schema + "_outbox_1";
        try (pg) {
            await().atMost(WAIT)
                    .until(() -> count("select count(*) from pg_replication_slots where slot_name = '" + slot
                                    + "' and active")
                            == 0);
            try (Statement st = pg.createStatement()) {
                st.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '"
                        + slot + "'; drop publication if exists " + slot + "; drop schema " + schema + " cascade");
            }
        }
    }

    private long count(String sql) throws SQLException {
        try (Statement st = pg.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
