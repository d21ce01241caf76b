package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** WAL changes of a table, streamed by logical replication, become entries of a Redis stream in commit order. */
class WalToRedisStreamIT {
    private static final Pattern NEW_ID = Pattern.compile("\"new\":\\{\"id\":(\\d+)");

    private final String name =
            "wal_redis_" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private final String table = name + ".orders";
    private final RedisClient client = RedisClient.create(TestServices.redisUrl());
    private final StatefulRedisConnection<String, String> redis = client.connect();
    private Connection pg;

    @BeforeEach
    void createTable() throws SQLException {
        pg = TestServices.postgresConnection();
        exec("CREATE SCHEMA " + name, "CREATE TABLE " + table + " (id int PRIMARY KEY)");
    }

    @AfterEach
    void dropEverything() throws SQLException {
        try (PreparedStatement ps = pg.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM "
                + "pg_replication_slots WHERE slot_name = ? AND NOT active")) {
            ps.setString(1, name);
            ps.execute();
        }
        exec("DROP PUBLICATION IF EXISTS " + name, "DROP SCHEMA " + name + " CASCADE");
        pg.close();
        redis.sync().del(name);
        redis.close();
        client.shutdown();
    }

    @Test
    void everyInsertBecomesOneStreamEntryInCommitOrder() throws Exception {
        try (PgBridge bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .upstream(TestServices.redisUrl())
                .routes(table + "->stream:" + name)
                .setting("wal.slot", name)
                .build()) {
            bridge.start();
            for (int id = 1; id <= 50; id += 10) {
                exec("INSERT INTO " + table + " SELECT generate_series(" + id + ", " + (id + 9) + ")");
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> redis.sync().xlen(name) >= 50);
        }

        List<StreamMessage<String, String>> entries = redis.sync().xrange(name, Range.create("-", "+"));
        assertThat(entries).as("one entry per inserted row").hasSize(50);
        assertThat(entries).as("fields of every entry").allSatisfy(e -> assertThat(e.getBody())
                .containsEntry("channel", table)
                .containsKeys("event_id", "source", "payload"));
        assertThat(new HashSet<>(
                        entries.stream().map(e -> e.getBody().get("event_id")).collect(Collectors.toList())))
                .as("distinct event ids")
                .hasSize(50);
        assertThat(entries.stream().map(e -> newId(e.getBody().get("payload"))).collect(Collectors.toList()))
                .as("row ids in commit order")
                .isSorted()
                .hasSize(50);
    }

    private static int newId(String payload) {
        Matcher m = NEW_ID.matcher(payload.replace(" ", ""));
        assertThat(m.find()).as("new.id in %s", payload).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private void exec(String... statements) throws SQLException {
        try (Statement st = pg.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }
}
