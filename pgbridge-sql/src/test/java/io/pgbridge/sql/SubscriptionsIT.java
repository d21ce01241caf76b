package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Seed 002's subscriptions against the generated triggers: payload shape, filters, merge helper, bad input. */
class SubscriptionsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TestDatabase db = new TestDatabase();

    @BeforeEach
    void migrate() throws Exception {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
        db.execute("create schema " + db.app + "; create table " + db.app + ".users (id serial primary key,"
                + " email text not null, email_verified boolean not null default false,"
                + " created_at timestamptz not null default now(), password_hash text)");
        db.execute("create table " + db.app + ".orders (id serial primary key, user_id int, total numeric)");
    }

    @AfterEach
    void drop() throws Exception {
        db.dropAll();
    }

    /** Seed 002's own statement, with only the schema names changed. */
    private String seedUserSignup() {
        return "insert into " + db.schema + ".subscriptions (key, stream_id, operation, schema_name, table_name,"
                + " when_clause, column_names, payload_extensions) values ('user-signup', 1, 'INSERT', '" + db.app
                + "', 'users', 'new.email_verified = true', array['id', 'email', 'created_at'], '[]'::jsonb)";
    }

    @Test
    void seedUserSignupWritesExactlyTheSeedPayloadAndNothingForAFilteredRow() throws Exception {
        db.execute(seedUserSignup());
        db.execute("insert into " + db.app + ".users (email, email_verified, created_at, password_hash)"
                + " values ('user@example.com', true, '2024-12-12T10:30:00Z', 'secret')");
        db.execute("insert into " + db.app + ".users (email, email_verified) values ('unverified@example.com', false)");

        List<JsonNode> payloads = payloads();
        assertThat(payloads)
                .as("events written for one verified and one unverified signup")
                .hasSize(1);
        JsonNode p = payloads.get(0);
        assertThat(fieldNames(p))
                .as("payload keys")
                .containsExactlyInAnyOrder(
                        "tg_name", "tg_op", "tg_table_name", "tg_table_schema", "timestamp", "new", "old");
        assertThat(p.get("tg_name").asText()).as("tg_name").isEqualTo("user-signup");
        assertThat(p.get("tg_op").asText()).as("tg_op").isEqualTo("INSERT");
        assertThat(p.get("tg_table_name").asText()).as("tg_table_name").isEqualTo("users");
        assertThat(p.get("tg_table_schema").asText()).as("tg_table_schema").isEqualTo(db.app);
        assertThat(p.get("timestamp").isIntegralNumber() && p.get("timestamp").asLong() > 1_700_000_000_000L)
                .as("timestamp is epoch milliseconds: %s", p.get("timestamp"))
                .isTrue();
        assertThat(p.get("old").isNull()).as("old is null for INSERT").isTrue();
        JsonNode row = p.get("new");
        assertThat(fieldNames(row)).as("new holds only column_names").containsExactly("id", "email", "created_at");
        assertThat(row.get("email").asText()).as("new.email").isEqualTo("user@example.com");
        assertThat(row.get("id").asInt()).as("new.id").isEqualTo(1);
        assertThat(row.get("created_at").asText()).as("new.created_at").isEqualTo("2024-12-12T10:30:00+00:00");
    }

    @Test
    void seedOrderNotificationAddsPayloadExtensions() throws Exception {
        db.execute("insert into " + db.schema + ".subscriptions (key, stream_id, operation, schema_name, table_name,"
                + " when_clause, column_names, payload_extensions) values ('order-notification', 1, 'INSERT', '"
                + db.app + "', 'orders', null, array['id', 'user_id', 'total'], '["
                + "{\"json_path\": \"group_id\", \"expression\": \"new.user_id::text\"},"
                + "{\"json_path\": \"queue_name\", \"expression\": \"''orders-high-priority''\"}]'::jsonb)");
        db.execute("insert into " + db.app + ".orders (user_id, total) values (123, 99.99)");

        JsonNode p = payloads().get(0);
        assertThat(p.get("tg_name").asText()).as("tg_name").isEqualTo("order-notification");
        assertThat(p.get("new").toString()).as("new").isEqualTo("{\"id\":1,\"total\":99.99,\"user_id\":123}");
        assertThat(p.get("group_id").asText()).as("group_id extension").isEqualTo("123");
        assertThat(p.get("queue_name").asText()).as("queue_name extension").isEqualTo("orders-high-priority");
    }

    @Test
    void whenClausesOfSeveralSubscriptionsAreMergedIntoOneTrigger() throws Exception {
        db.execute(seedUserSignup());
        db.execute("insert into " + db.schema + ".subscriptions (key, operation, schema_name, table_name,"
                + " when_clause, channel) values ('example-users', 'insert', '" + db.app
                + "', 'users', 'new.email like ''%@example.org''', 'audit')");
        assertThat(triggerCount("users")).as("triggers on users").isEqualTo(1);
        db.execute("insert into " + db.app + ".users (email, email_verified) values"
                + " ('a@example.org', true), ('b@example.org', false), ('c@example.com', false)");

        List<String> events = new ArrayList<>();
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select channel || ':' || (payload ->> 'tg_name') || ':'"
                        + " || (payload -> 'new' ->> 'email') from " + db.schema + ".events order by id")) {
            while (rs.next()) {
                events.add(rs.getString(1));
            }
        }
        assertThat(events)
                .as("one event per matching subscription and row")
                .containsExactlyInAnyOrder(
                        "events:user-signup:a@example.org",
                        "audit:example-users:a@example.org",
                        "audit:example-users:b@example.org");
    }

    @Test
    void deletingTheLastSubscriptionDropsTheTrigger() throws Exception {
        db.execute(seedUserSignup());
        db.execute("delete from " + db.schema + ".subscriptions");
        assertThat(triggerCount("users")).as("triggers on users").isZero();
        db.execute("insert into " + db.app + ".users (email, email_verified) values ('x@example.com', true)");
        assertThat(payloads()).as("events after unsubscribing").isEmpty();
    }

    @Test
    void setSubscriptionsReplacesTheSetWithoutRecreatingUnchangedTriggers() throws Exception {
        String set = "select " + db.schema + ".set_subscriptions(1, array[row('user-signup', 1, 'INSERT', '" + db.app
                + "', 'users', %s, array['id','email'], null, null, 'events', null, null)::" + db.schema
                + ".subscriptions, row('order-created', 1, 'INSERT', '" + db.app + "', 'orders', null, null, null,"
                + " null, 'events', null, null)::" + db.schema + ".subscriptions])";
        db.execute(String.format(set, "'new.email_verified'"));
        long usersTrigger = triggerOid("users");
        long ordersTrigger = triggerOid("orders");

        db.execute(String.format(set, "'new.email_verified'"));
        assertThat(triggerOid("users"))
                .as("users trigger after an identical set")
                .isEqualTo(usersTrigger);
        assertThat(triggerOid("orders"))
                .as("orders trigger after an identical set")
                .isEqualTo(ordersTrigger);
        assertThat(functionSource("users")).as("users function").contains("(new.email_verified\n)");

        db.execute(String.format(set, "'not new.email_verified'"));
        assertThat(functionSource("users"))
                .as("users function after a changed when_clause")
                .contains("(not new.email_verified\n)");
        assertThat(triggerOid("orders"))
                .as("orders trigger after a change to users only")
                .isEqualTo(ordersTrigger);

        db.execute("select " + db.schema + ".set_subscriptions(1, array[]::" + db.schema + ".subscriptions[])");
        assertThat(triggerCount("users") + triggerCount("orders"))
                .as("triggers after an empty set")
                .isZero();
    }

    @Test
    void rejectsWhenClausesThatAreNotOneBooleanExpressionNamingTheRule() throws Exception {
        String[][] cases = {
            {"new.email_verified; drop table users", "\"one expression\""},
            {"true); drop table users; select (true", "\"one expression\""},
            {"true) or (true", "\"one expression\""},
            {"(new.email_verified", "\"one expression\""},
            {"new.email = 'x", "\"one expression\""},
            {"new.email_verified /* unterminated", "\"one expression\""},
            {"new.id", "\"of type boolean\""},
            {"new.no_such_column", "\"only new\""},
            {"new.id in (select 1)", "\"no sub-select\""},
            {"old.id = 1", "\"only new\""},
            {"", "\"not empty\""},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> db.execute("insert into " + db.schema + ".subscriptions (key, operation,"
                            + " schema_name, table_name, when_clause) values ('bad', 'INSERT', '" + db.app
                            + "', 'users', '" + c[0].replace("'", "''") + "')"))
                    .as("when_clause %s", c[0])
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("when_clause")
                    .hasMessageContaining("breaks the rule " + c[1]);
        }
        assertThat(triggerCount("users"))
                .as("triggers after rejected subscriptions")
                .isZero();
    }

    @Test
    void rejectsUnknownTablesColumnsOperationsAndRolesWithoutTriggerPrivilege() throws Exception {
        String insert = "insert into " + db.schema + ".subscriptions (key, operation, schema_name, table_name,"
                + " column_names) values ('bad', '%s', '" + db.app + "', '%s', %s)";
        assertThatThrownBy(() -> db.execute(String.format(insert, "INSERT", "no_such_table", "null")))
                .as("unknown table")
                .hasMessageContaining("does not exist")
                .hasMessageContaining("no_such_table");
        assertThatThrownBy(() -> db.execute(String.format(insert, "INSERT", "users", "array['id', 'nope']")))
                .as("unknown column")
                .hasMessageContaining("column_names")
                .hasMessageContaining("nope");
        assertThatThrownBy(() -> db.execute(String.format(insert, "TRUNCATE", "users", "null")))
                .as("unknown operation")
                .hasMessageContaining("must be INSERT, UPDATE or DELETE");

        String role = "pgb_role_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        db.execute("create role " + role + " nologin; grant usage on schema " + db.schema + ", " + db.app + " to "
                + role + "; grant select, insert on " + db.schema + ".subscriptions to " + role + "; grant select on "
                + db.app + ".users to " + role);
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            st.execute("set role " + role);
            assertThatThrownBy(() -> st.execute(String.format(insert, "INSERT", "users", "null")))
                    .as("role without TRIGGER privilege")
                    .hasMessageContaining("may not create triggers");
            st.execute("reset role");
        } finally {
            db.execute("drop owned by " + role + "; drop role " + role);
        }
    }

    @Test
    void aSecondRoleIsToldWhoOwnsTheGeneratedFunctionAndCanTakeItOver() throws Exception {
        String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        String first = "pgb_first_" + suffix;
        String second = "pgb_second_" + suffix;
        for (String role : List.of(first, second)) {
            db.execute("create role " + role + " nologin; grant usage, create on schema " + db.schema + " to " + role
                    + "; grant usage on schema " + db.app + " to " + role + "; grant select, insert on " + db.schema
                    + ".subscriptions to " + role + "; grant select, trigger on " + db.app + ".users to " + role);
        }
        String subscribe = "insert into " + db.schema + ".subscriptions (key, operation, schema_name, table_name)"
                + " values ('%s', 'INSERT', '" + db.app + "', 'users')";
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            st.execute("set role " + first);
            st.execute(String.format(subscribe, "by-first"));
            st.execute("set role " + second);
            assertThatThrownBy(() -> st.execute(String.format(subscribe, "by-second")))
                    .as("a change by a role that does not own the generated function")
                    .hasMessageContaining("is owned by role " + first)
                    .hasMessageContaining("role " + second + " is not a member of it");
            st.execute("reset role");
            st.execute("alter function " + db.schema + "._publish_insert_" + md5(db.app + ".users") + "() owner to "
                    + second);
            st.execute("set role " + second);
            st.execute(String.format(subscribe, "by-second"));
            st.execute("reset role");
        } finally {
            db.dropAll(); // the trigger depends on the function the roles own
            db.execute("drop owned by " + first + ", " + second + "; drop role " + first + "; drop role " + second);
        }
    }

    @Test
    void generatedFunctionsPinSearchPathAndStandardConformingStrings() throws Exception {
        db.execute(seedUserSignup());
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "select array_to_string(p.proconfig, ',') from pg_proc p" + " where p.pronamespace = '"
                                + db.schema + "'::regnamespace and p.proname like '_publish_%'")) {
            assertThat(rs.next()).as("a generated function exists").isTrue();
            assertThat(rs.getString(1)).as("its settings").isEqualTo("search_path=\"\",standard_conforming_strings=on");
        }
    }

    private List<JsonNode> payloads() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select payload::text from " + db.schema + ".events order by id")) {
            while (rs.next()) {
                out.add(JSON.readTree(rs.getString(1)));
            }
        }
        return out;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private int triggerCount(String table) throws SQLException {
        return (int) queryLong("select count(*) from pg_trigger where tgrelid = '" + db.app + "." + table
                + "'::regclass and not tgisinternal");
    }

    private long triggerOid(String table) throws SQLException {
        return queryLong("select oid from pg_trigger where tgrelid = '" + db.app + "." + table
                + "'::regclass and not tgisinternal");
    }

    private String functionSource(String table) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select p.prosrc from pg_trigger t join pg_proc p on p.oid = t.tgfoid"
                        + " where t.tgrelid = '" + db.app + "." + table + "'::regclass and not t.tgisinternal")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private long queryLong(String sql) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String md5(String text) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select md5('" + text + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
