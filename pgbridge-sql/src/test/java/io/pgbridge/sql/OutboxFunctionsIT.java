package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** send, send_message and partition maintenance, in SQL. */
class OutboxFunctionsIT {
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd");

    private final TestDatabase db = new TestDatabase();

    @BeforeEach
    void migrate() {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
    }

    @AfterEach
    void drop() throws Exception {
        db.dropAll();
    }

    @Test
    void sendWritesInTheCallersTransactionOnly() throws Exception {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("select " + db.schema + ".send('orders', '{\"n\": 1}'::jsonb, 'created')");
            c.rollback();
            st.execute("select " + db.schema + ".send('orders', '{\"n\": 2}'::jsonb, 'created', '{\"h\": \"v\"}')");
            st.execute("select " + db.schema + ".send('orders', 'plain text')");
            c.commit();
        }
        assertThat(rows("select channel || '|' || coalesce(routing_key, '-') || '|' || payload::text || '|'"
                        + " || content_type || '|' || coalesce(headers::text, '-') from " + db.schema
                        + ".events order by id"))
                .as("events after one rolled-back and two committed sends")
                .containsExactly(
                        "orders|created|{\"n\": 2}|application/json|{\"h\": \"v\"}",
                        "orders|-|\"plain text\"|text/plain; charset=utf-8|-");
        assertThatThrownBy(() -> db.execute("select " + db.schema + ".send('orders', '{}'::jsonb, null, '{\"n\": 1}')"))
                .as("a header value that is not a string")
                .hasMessageContaining("events_headers_strings");
        for (String payload : new String[] {"5", "{\"text\": \"x\"}", "null", "[\"x\"]", "true"}) {
            assertThatThrownBy(() -> db.execute("insert into " + db.schema + ".events (content_type, payload) values"
                            + " ('text/plain', '" + payload + "')"))
                    .as("a text content type with the JSON payload %s", payload)
                    .hasMessageContaining("events_text_payload_is_string");
        }
    }

    @Test
    void sendReturnsTheIdOfTheRowItWroteWithEveryArgumentInPlace() throws Exception {
        String columns = "channel || '|' || routing_key || '|' || payload::text || '|' || content_type || '|'"
                + " || headers::text || '|' || stream_id from " + db.schema + ".events where id = ";
        for (String payload : new String[] {"'{\"n\": 3}'::jsonb", "'plain text'::text"}) {
            String id = rows("select " + db.schema + ".send('orders', " + payload + ", 'created', '{\"h\": \"v\"}', 4)")
                    .get(0);
            assertThat(rows("select " + columns + id))
                    .as("the row of send(%s, ...) with every argument", payload)
                    .containsExactly(
                            payload.startsWith("'{")
                                    ? "orders|created|{\"n\": 3}|application/json|{\"h\": \"v\"}|4"
                                    : "orders|created|\"plain text\"|text/plain; charset=utf-8|{\"h\": \"v\"}|4");
        }
    }

    @Test
    void sendMessageIsDurableThroughTheOutboxOrAPlainNotify() throws Exception {
        String channel = db.schema + "_ch";
        try (Connection listener = db.connect();
                Statement st = listener.createStatement()) {
            st.execute("listen " + channel);
            db.execute(
                    "select " + db.schema + ".send_message('" + channel + "', 'A new user signup', 'signup', false)");
            db.execute("select " + db.schema + ".send_message('" + channel + "', 'durable one', 'signup', true)");
            db.execute("select " + db.schema + ".send_message('" + channel + "', 'no key', null, false)");
            List<String> heard = new ArrayList<>();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (heard.size() < 2 && System.nanoTime() < deadline) {
                PGNotification[] ns = listener.unwrap(PGConnection.class).getNotifications(200);
                for (PGNotification n : ns == null ? new PGNotification[0] : ns) {
                    heard.add(n.getParameter());
                }
            }
            assertThat(heard)
                    .as("plain NOTIFY payloads (no wake-up: no bridge in polling mode)")
                    .containsExactly("signup|A new user signup", "no key");
        }
        assertThat(rows("select routing_key || '|' || (payload #>> '{}') from " + db.schema + ".events"))
                .as("outbox rows")
                .containsExactly("signup|durable one");
    }

    @Test
    void pollingModeWakeUpNotifiesTheEventIdOnly() throws Exception {
        String channel = db.schema + "_wake";
        db.execute("insert into " + db.schema + ".streams (stream_id, wakeup_channel) values (7, '" + channel + "')");
        try (Connection listener = db.connect();
                Statement st = listener.createStatement()) {
            st.execute("listen " + channel);
            long id = Long.parseLong(rows("select " + db.schema + ".send('c', '{}'::jsonb, stream_id => 7)")
                    .get(0));
            db.execute("select " + db.schema + ".send('c', '{}'::jsonb)"); // stream 1: no wake-up configured
            PGNotification[] ns = listener.unwrap(PGConnection.class).getNotifications(5_000);
            assertThat(ns).as("wake-ups").isNotNull().hasSize(1);
            assertThat(ns[0].getParameter()).as("wake-up payload").isEqualTo(Long.toString(id));
        }
    }

    @Test
    void partitionMaintenanceCreatesAheadMovesStrayRowsAndDropsAfterRetention() throws Exception {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        // a row five days ahead lands in the default partition until its day's partition exists
        db.execute(
                "insert into " + db.schema + ".events (payload, created_at) values ('{}', now() + interval '5 days')");
        LocalDate old = today.minusDays(10);
        db.execute("create table " + db.schema + ".events_" + DAY.format(old) + " partition of " + db.schema
                + ".events for values from ('" + old + " 00:00+00') to ('" + old.plusDays(1) + " 00:00+00')");

        assertThat(rows("select " + db.schema + ".create_partitions(6)"))
                .as("partitions created for days 3 to 5 ahead")
                .containsExactly("3");
        assertThat(rows("select count(*) from " + db.schema + ".events_" + DAY.format(today.plusDays(5))))
                .as("the stray row moved into its day's partition")
                .containsExactly("1");
        assertThat(rows("select count(*) from " + db.schema + ".events_default"))
                .as("rows left in the default partition")
                .containsExactly("0");
        assertThat(rows("select " + db.schema + ".drop_partitions(7)"))
                .as("partitions dropped")
                .containsExactly("1");
        assertThat(partitions())
                .as("partitions after maintenance")
                .containsExactly(
                        "events_" + DAY.format(today),
                        "events_" + DAY.format(today.plusDays(1)),
                        "events_" + DAY.format(today.plusDays(2)),
                        "events_" + DAY.format(today.plusDays(3)),
                        "events_" + DAY.format(today.plusDays(4)),
                        "events_" + DAY.format(today.plusDays(5)));
        db.execute("select " + db.schema + ".maintain_partitions(6, 7)");
        assertThat(partitions()).as("partitions after a second, idle run").hasSize(6);
        assertThatThrownBy(() -> db.execute("select " + db.schema + ".drop_partitions(0)"))
                .as("retention of 0 days")
                .hasMessageContaining("retention_days must be at least 1");
    }

    private List<String> partitions() throws SQLException {
        return rows("select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = '"
                + db.schema + ".events'::regclass and c.relname <> 'events_default' order by 1");
    }

    private List<String> rows(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
