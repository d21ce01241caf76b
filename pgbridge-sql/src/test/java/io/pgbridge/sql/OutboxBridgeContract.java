package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbridge.Event;
import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.SchemaException;
import io.pgbridge.spi.Setting;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox source end to end, in each mode: PostgreSQL, the pgbridge schema, the pipeline, an in-memory sink. A
 * subclass per mode supplies its settings and how to check that everything was taken from the outbox.
 */
abstract class OutboxBridgeContract {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(30);

    final TestDatabase db = new TestDatabase();
    private final List<PgBridge> bridges = new ArrayList<>();

    /** The mode's settings, by canonical key. */
    abstract Map<String, String> modeSettings();

    /** Waits until the bridge has taken every committed event (polling: deleted; streaming: slot confirmed). */
    abstract void awaitOutboxDrained() throws Exception;

    /** Drops what the mode created outside the schema (slot, publication), after the bridges closed. */
    void dropModeObjects() throws Exception {}

    @BeforeEach
    void migrate() {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (PgBridge b : bridges) {
            b.close();
        }
        dropModeObjects();
        db.dropAll();
    }

    PgBridge start(InMemorySink sink) {
        return start(sink, Map.of());
    }

    PgBridge start(InMemorySink sink, Map<String, String> extraSettings) {
        PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes("events->queue:events, orders->queue:orders")
                .sink(sink)
                .source("outbox")
                .setting("outbox.schema", db.schema)
                .setting("outbox.poll-interval-ms", "200")
                .setting("outbox.batch-size", "50")
                .settings(modeSettings())
                .settings(extraSettings)
                .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .build();
        bridges.add(bridge);
        bridge.start();
        return bridge;
    }

    void send(Statement st, String channel, String json) throws SQLException {
        st.execute("select " + db.schema + ".send('" + channel + "', '" + json + "'::jsonb)");
    }

    @Test
    void seedUserSignupSubscriptionDeliversExactlyTheSeedPayload() throws Exception {
        db.execute("create schema " + db.app + "; create table " + db.app + ".users (id serial primary key,"
                + " email text, email_verified boolean, created_at timestamptz default now())");
        db.execute("insert into " + db.schema + ".subscriptions (key, stream_id, operation, schema_name, table_name,"
                + " when_clause, column_names, payload_extensions) values ('user-signup', 1, 'INSERT', '" + db.app
                + "', 'users', 'new.email_verified = true', array['id', 'email', 'created_at'], '[]'::jsonb)");
        InMemorySink sink = new InMemorySink();
        start(sink);

        db.execute("insert into " + db.app + ".users (email, email_verified, created_at)"
                + " values ('user@example.com', true, '2024-12-12T10:30:00Z')");
        db.execute("insert into " + db.app + ".users (email, email_verified) values ('no@example.com', false)");
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "events", "{\"marker\": true}");
        }

        List<Event> events = sink.await(2, WAIT);
        assertThat(events)
                .as("events: the verified signup, then the marker; the unverified one filtered")
                .hasSize(2);
        Event signup = events.get(0);
        assertThat(signup.channel()).as("channel").isEqualTo("events");
        assertThat(signup.contentType()).as("content type").isEqualTo("application/json");
        JsonNode p = JSON.readTree(signup.payloadAsString());
        JsonNode expected = JSON.readTree("{\"tg_name\": \"user-signup\", \"tg_op\": \"INSERT\","
                + " \"tg_table_name\": \"users\", \"tg_table_schema\": \"" + db.app + "\", \"timestamp\": "
                + p.get("timestamp") + ", \"new\": {\"id\": 1, \"email\": \"user@example.com\","
                + " \"created_at\": \"2024-12-12T10:30:00+00:00\"}, \"old\": null}");
        assertThat(p).as("payload").isEqualTo(expected);
        assertThat(events.get(1).payloadAsString()).as("second event").isEqualTo("{\"marker\": true}");
        awaitOutboxDrained();
    }

    /**
     * One definition of a valid row (constraint events_text_payload_is_string): every mode turns the same rows into
     * the same events, listed here once for all modes.
     */
    @Test
    void theSameRowsGiveTheSameEventsInEveryMode() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink);
        String[][] rows = {
            {"application/json", "'{\"a\": [1, 2.5, null, true]}'", "null"},
            {"application/json", "'\"just a string\"'", "null"},
            {"application/json", "'42'", "'{\"h1\": \"v1\", \"h2\": \"\"}'"},
            {"application/json", "'null'", "null"},
            {"text/plain; charset=utf-8", "to_jsonb(text E'line1\\nline2 \"quoted\" \\\\ \u00e9 \u2603')", "null"},
            {"text/csv", "'\"a,b\\n1,2\"'", "null"},
            {"application/xml", "'\"<a/>\"'", "null"},
            {"Text/Plain", "'{\"x\": 1}'", "null"},
        };
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (String[] row : rows) {
                st.execute("insert into " + db.schema + ".events (channel, content_type, payload, headers) values"
                        + " ('events', '" + row[0] + "', " + row[1] + ", " + row[2] + ")");
            }
            c.commit();
        }
        List<String> delivered = new ArrayList<>();
        for (Event e : sink.await(rows.length, WAIT)) {
            delivered.add(e.contentType() + "|" + e.payloadAsString() + "|" + new TreeMap<>(e.headers()));
        }
        assertThat(delivered)
                .as("events of the rows")
                .containsExactly(
                        "application/json|{\"a\": [1, 2.5, null, true]}|{}",
                        "application/json|\"just a string\"|{}",
                        "application/json|42|{h1=v1, h2=}",
                        "application/json|null|{}",
                        "text/plain; charset=utf-8|line1\nline2 \"quoted\" \\ \u00e9 \u2603|{}",
                        "text/csv|a,b\n1,2|{}",
                        "application/xml|\"<a/>\"|{}",
                        "Text/Plain|{\"x\": 1}|{}");
        awaitOutboxDrained();
    }

    @Test
    void rolledBackSendDeliversNothingAndCommittedSendDeliversOnce() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink);
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            send(st, "orders", "{\"n\": \"rolled back\"}");
            c.rollback();
            st.execute("select " + db.schema + ".send('orders', '{\"n\": \"committed\"}'::jsonb, 'created',"
                    + " '{\"tenant\": \"t1\"}')");
            c.commit();
            st.execute("select " + db.schema + ".send_message('orders', 'marker text', 'mk', true)");
            c.commit();
        }
        List<Event> events = sink.await(2, WAIT);
        awaitOutboxDrained();
        assertThat(sink.events()).as("delivered events").hasSize(2);
        Event committed = events.get(0);
        assertThat(committed.payloadAsString()).as("payload").isEqualTo("{\"n\": \"committed\"}");
        assertThat(committed.routingKey()).as("routing key").isEqualTo("created");
        assertThat(committed.headers()).as("headers").isEqualTo(Map.of("tenant", "t1"));
        assertThat(events.get(1).payloadAsString()).as("text message payload").isEqualTo("marker text");
        assertThat(events.get(1).contentType()).as("text message content type").startsWith("text/plain");
        assertThat(events.get(1).routingKey()).as("text message routing key").isEqualTo("mk");
    }

    @Test
    void sinkOutageUnderASteadyStreamLosesNothingAndKeepsCommitOrder() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink);
        int total = 400;
        AtomicInteger sent = new AtomicInteger();
        Thread producer = new Thread(() -> {
            try (Connection c = db.connect();
                    Statement st = c.createStatement()) {
                for (int i = 1; i <= total; i++) {
                    send(st, "events", "{\"seq\": " + i + "}");
                    sent.set(i);
                    if (i % 20 == 0) {
                        Thread.sleep(10); // a steady stream, not one burst
                    }
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        producer.start();
        await().atMost(WAIT).until(() -> sink.events().size() >= 50);
        sink.setAvailable(false);
        int atOutage = sink.events().size();
        await().atMost(WAIT).until(() -> sent.get() >= atOutage + 100);
        assertThat(sink.events().size()).as("deliveries while the sink is down").isEqualTo(atOutage);
        sink.setAvailable(true);
        producer.join(WAIT.toMillis());

        sink.await(total, WAIT);
        awaitOutboxDrained();
        List<Integer> seqs = new ArrayList<>();
        for (Event e : sink.events()) {
            seqs.add(JSON.readTree(e.payloadAsString()).get("seq").asInt());
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 1; i <= total; i++) {
            expected.add(i);
        }
        assertThat(seqs).as("every committed event once, in commit order").isEqualTo(expected);
    }

    @Test
    void longTransactionThatCommitsAfterLaterOnesDuringAnOutageIsDelivered() throws Exception {
        InMemorySink sink = new InMemorySink();
        start(sink);
        try (Connection longTx = db.connect();
                Statement lst = longTx.createStatement();
                Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "events", "{\"n\": \"before\"}");
            sink.await(1, WAIT);
            sink.setAvailable(false);
            longTx.setAutoCommit(false);
            send(lst, "events", "{\"n\": \"long\"}"); // a lower id, committed last
            for (int i = 0; i < 5; i++) {
                send(st, "events", "{\"n\": \"later " + i + "\"}");
            }
            sink.setAvailable(true);
            sink.await(6, WAIT);
            longTx.commit();
        }
        List<Event> events = sink.await(7, WAIT);
        awaitOutboxDrained();
        List<String> ns = new ArrayList<>();
        for (Event e : events) {
            ns.add(JSON.readTree(e.payloadAsString()).get("n").asText());
        }
        assertThat(ns)
                .as("events in commit order, the long transaction's included")
                .containsExactly("before", "later 0", "later 1", "later 2", "later 3", "later 4", "long");
    }

    @Test
    void eventARefusedForGoodGoesToDeadLettersWithTheReasonAndTheLaneMovesOn() throws Exception {
        InMemorySink sink = new InMemorySink();
        sink.rejectWhen(e -> e.payloadAsString().contains("poison"));
        start(sink);
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            st.execute("select " + db.schema + ".send('orders', '{\"poison\": 1}'::jsonb, 'rk', '{\"h\": \"v\"}')");
            send(st, "orders", "{\"fine\": 2}");
        }
        List<Event> events = sink.await(1, WAIT);
        assertThat(events.get(0).payloadAsString())
                .as("delivered after the dead letter")
                .isEqualTo("{\"fine\": 2}");
        awaitOutboxDrained();
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select source, channel, routing_key, headers::text, payload, target,"
                        + " reason from " + db.schema + ".dead_letters")) {
            assertThat(rs.next()).as("a dead letter row").isTrue();
            assertThat(rs.getString(1)).as("source").isEqualTo("outbox");
            assertThat(rs.getString(2)).as("channel").isEqualTo("orders");
            assertThat(rs.getString(3)).as("routing key").isEqualTo("rk");
            assertThat(rs.getString(4)).as("headers").isEqualTo("{\"h\": \"v\"}");
            assertThat(rs.getString(5)).as("payload").isEqualTo("{\"poison\": 1}");
            assertThat(rs.getString(6)).as("target").contains("orders");
            assertThat(rs.getString(7)).as("reason").contains("rejects event");
            assertThat(rs.next()).as("a second dead letter row").isFalse();
        }
    }

    @Test
    void runsFromEnvironmentSettingsAlone() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl());
        env.put("PGBRIDGE_SOURCES", "outbox");
        env.put("PGBRIDGE_OUTBOX_SCHEMA", db.schema);
        env.put("PGBRIDGE_OUTBOX_POLL_INTERVAL_MS", "200");
        env.put("PGBRIDGE_BRIDGE_CHANNELS", "events->queue:events");
        env.put("PGBRIDGE_UPSTREAM", "logging");
        modeSettings().forEach((key, value) -> env.put(Setting.envName(key), value));
        PgBridge bridge = PgBridgeConfig.fromEnvironment(env).toBuilder().build();
        bridges.add(bridge);
        bridge.start();
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            send(st, "events", "{\"from\": \"env\"}");
        }
        await().atMost(WAIT).until(() -> bridge.stats().delivered() >= 1);
        awaitOutboxDrained();
    }

    @Test
    void startFailsWithTheFixWhenTheSchemaIsNotInstalled() {
        PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .routes("events->queue:events")
                .sink(new InMemorySink())
                .source("outbox")
                .setting("outbox.schema", db.schema + "_missing")
                .build();
        bridges.add(bridge);
        assertThatThrownBy(bridge::start)
                .as("start without the schema")
                .isInstanceOf(SchemaException.class)
                .hasMessageContaining(db.schema + "_missing")
                .hasMessageContaining("PgBridgeSchema.migrate");
    }

    long count(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
