package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SchemaMigrationIT {
    private final TestDatabase db = new TestDatabase();

    @AfterEach
    void dropSchema() throws Exception {
        db.dropAll();
    }

    @Test
    void twoThreadsMigratingAtOnceApplyEveryScriptExactlyOnce() throws Exception {
        DataSource ds = TestDatabase.dataSource();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                runs.add(pool.submit(() -> {
                    go.await();
                    return PgBridgeSchema.migrate(ds, db.schema);
                }));
            }
            go.countDown();
            int applied = 0;
            for (Future<Integer> run : runs) {
                applied += run.get(60, TimeUnit.SECONDS);
            }
            int scripts = scriptCount();
            assertThat(applied)
                    .as("scripts applied by both threads together")
                    .isEqualTo(scripts)
                    .isGreaterThanOrEqualTo(2);
            try (Connection c = db.connect();
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select count(*) filter (where success), count(*) from " + db.schema
                            + "." + PgBridgeSchema.HISTORY_TABLE + " where version is not null")) {
                rs.next();
                assertThat(rs.getInt(1)).as("successful history rows").isEqualTo(scripts);
                assertThat(rs.getInt(2)).as("all versioned history rows").isEqualTo(scripts);
            }
            assertThat(PgBridgeSchema.migrate(ds, db.schema))
                    .as("a third run finds nothing to do")
                    .isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void migrationCreatesTodaysPartitionAndTwoAhead() throws Exception {
        PgBridgeSchema.migrate(TestDatabase.dataSource(), db.schema);
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery("select count(*) from pg_inherits i join pg_class c on c.oid = i.inhrelid"
                                + " where i.inhparent = '" + db.schema + ".events'::regclass"
                                + " and c.relname ~ '^events_[0-9]{8}$'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("daily partitions after migration").isEqualTo(3);
        }
    }

    @Test
    void upgradingToV4MovesRowsNoModeCanDeliverToDeadLettersAndRegeneratesTriggers() throws Exception {
        DataSource ds = TestDatabase.dataSource();
        Flyway.configure()
                .configuration(PgBridgeSchema.flyway(ds, db.schema).getConfiguration())
                .target("3")
                .load()
                .migrate();
        db.execute("insert into " + db.schema + ".events (channel, content_type, payload) values"
                + " ('events', 'text/plain', '5'), ('events', 'text/plain', '\"fine\"'),"
                + " ('events', 'application/json', '5')");
        db.execute("create schema " + db.app + "; create table " + db.app + ".users (id int, email text);"
                + " insert into " + db.schema + ".subscriptions (key, operation, schema_name, table_name,"
                + " when_clause) values ('s', 'INSERT', '" + db.app + "', 'users', 'new.id > 0')");

        assertThat(PgBridgeSchema.migrate(ds, db.schema))
                .as("scripts applied after V3")
                .isGreaterThanOrEqualTo(1);

        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery(
                    "select content_type || ' ' || payload::text from " + db.schema + ".events order by id")) {
                List<String> kept = new ArrayList<>();
                while (rs.next()) {
                    kept.add(rs.getString(1));
                }
                assertThat(kept).as("rows kept").containsExactly("text/plain \"fine\"", "application/json 5");
            }
            try (ResultSet rs = st.executeQuery("select payload, target, reason from " + db.schema + ".dead_letters")) {
                assertThat(rs.next()).as("a dead letter").isTrue();
                assertThat(rs.getString(1)).as("its payload").isEqualTo("5");
                assertThat(rs.getString(2)).as("its target").isEqualTo("pgbridge schema V4");
                assertThat(rs.getString(3)).as("its reason").contains("events_text_payload_is_string");
                assertThat(rs.next()).as("a second dead letter").isFalse();
            }
            try (ResultSet rs = st.executeQuery("select array_to_string(p.proconfig, ',') from pg_proc p"
                    + " where p.pronamespace = '" + db.schema + "'::regnamespace and p.proname like '_publish_%'")) {
                assertThat(rs.next()).as("the generated function").isTrue();
                assertThat(rs.getString(1))
                        .as("its settings after the upgrade")
                        .contains("standard_conforming_strings=on");
            }
        }
    }

    @Test
    void aStoredClauseThatBreaksAV4RuleKeepsItsTriggerAndIsRefusedWhenChanged() throws Exception {
        DataSource ds = TestDatabase.dataSource();
        Flyway.configure()
                .configuration(PgBridgeSchema.flyway(ds, db.schema).getConfiguration())
                .target("3")
                .load()
                .migrate();
        db.execute("create schema " + db.app + "; create table " + db.app + ".users (id int, email text);"
                + " insert into " + db.schema + ".subscriptions (key, operation, schema_name, table_name,"
                + " when_clause) values ('old', 'INSERT', '" + db.app + "', 'users', 'random() >= 0')");

        PgBridgeSchema.migrate(ds, db.schema);

        db.execute("insert into " + db.app + ".users values (1, 'a')");
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(*) from " + db.schema + ".events")) {
            rs.next();
            assertThat(rs.getLong(1)).as("events of the kept trigger").isEqualTo(1);
        }
        assertThatThrownBy(() -> db.execute("update " + db.schema + ".subscriptions set channel = 'other'"))
                .as("a change to the subscription")
                .hasMessageContaining("breaks the rule \"no volatile function\"");
    }

    @Test
    void rejectsSchemaNamesThatAreNotPlainIdentifiers() {
        for (String bad : new String[] {"", "Pgbridge", "a;drop", "a b", "1abc"}) {
            assertThatThrownBy(() -> PgBridgeSchema.migrate(TestDatabase.dataSource(), bad))
                    .as("schema name '%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
    }

    /** How many scripts the module ships, as Flyway sees them for a schema that does not exist. */
    private int scriptCount() {
        return PgBridgeSchema.flyway(TestDatabase.dataSource(), db.schema + "_absent")
                .info()
                .all()
                .length;
    }
}
