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
