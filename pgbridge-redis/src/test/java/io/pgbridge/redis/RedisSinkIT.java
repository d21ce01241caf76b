package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.Consumer;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.Target;
import io.pgbridge.sinktck.FrozenPath;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What is Redis's own beyond the kit: the seed's pub/sub, stream fields, MAXLEN, credentials, recovery from a frozen
 * network path.
 */
class RedisSinkIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final RedisClient admin = RedisClient.create(TestServices.redisUrl());
    private final StatefulRedisConnection<String, String> redis = admin.connect();
    private final List<String> streams = new ArrayList<>();

    @AfterEach
    void deleteStreams() {
        if (!streams.isEmpty()) {
            redis.sync().del(streams.toArray(new String[0]));
        }
        redis.close();
        admin.shutdown();
    }

    @Test
    void notifyReachesARedisSubscriberOnTheChannelConfiguredByTheEnvironment() throws Exception {
        String channel =
                "pgb_redis_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        Map<String, String> env = Map.of(
                "PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl(),
                "PGBRIDGE_UPSTREAM_URI", TestServices.redisUrl(),
                "PGBRIDGE_BRIDGE_CHANNELS", channel + "->topic:" + channel);
        try (RedisChannelReceiver subscriber = new RedisChannelReceiver(channel);
                PgBridge bridge =
                        PgBridgeConfig.fromEnvironment(env).toBuilder().build();
                Connection db = TestServices.postgresConnection();
                Statement sql = db.createStatement()) {
            bridge.start();

            sql.execute("NOTIFY " + channel + ", 'signup|A new user signup'");

            await().atMost(WAIT).until(() -> !subscriber.received().isEmpty());
            assertThat(new String(subscriber.received().get(0).payload(), StandardCharsets.UTF_8))
                    .as("message on channel %s", channel)
                    .isEqualTo("A new user signup");
        }
    }

    /**
     * A reply lost on a frozen path left every later command on that connection waiting (Redis answers in order):
     * the route retried "did not reply within 5000 ms" for ever (found by pgbridge-chaos, seed -3014620732306670627).
     */
    @Test
    void aRouteDeliversAgainAfterItsNetworkPathToRedisFroze() throws Exception {
        String stream = newStream();
        try (RedisStreamReceiver receiver = new RedisStreamReceiver(stream)) {
            FrozenPath.assertRouteDeliversAgainAfterItsPathFroze(
                    TestServices.redisUrl(),
                    "stream:" + stream,
                    Map.of("PGBRIDGE_REDIS_COMMAND_TIMEOUT_MS", "1000"),
                    receiver);
        }
    }

    @Test
    void aStreamEntryCarriesTheEventAsFields() throws Exception {
        String stream = newStream();
        Event event = Event.builder()
                .id("evt-1")
                .source("notify")
                .channel("orders")
                .routingKey("created")
                .contentType("application/json")
                .header("tenant", "acme")
                .payload("{\"id\":1}")
                .build();
        try (Sink sink = sink(Map.of())) {
            sink.start();

            assertThat(sink.publish(Target.stream(stream), List.of(event)).confirmed())
                    .as("confirmed")
                    .isEqualTo(1);
        }

        List<StreamMessage<String, String>> entries = redis.sync().xrange(stream, Range.create("-", "+"));
        assertThat(entries).as("entries").hasSize(1);
        assertThat(entries.get(0).getBody())
                .as("fields, in order")
                .containsExactly(
                        Map.entry("event_id", "evt-1"),
                        Map.entry("source", "notify"),
                        Map.entry("channel", "orders"),
                        Map.entry("routing_key", "created"),
                        Map.entry("content_type", "application/json"),
                        Map.entry("header.tenant", "acme"),
                        Map.entry("payload", "{\"id\":1}"));
    }

    @Test
    void aConsumerGroupReadsAndAcknowledgesWhatTheSinkAdded() throws Exception {
        String stream = newStream();
        redis.sync()
                .xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), "workers", XGroupCreateArgs.Builder.mkstream());
        try (Sink sink = sink(Map.of())) {
            sink.start();
            sink.publish(
                    Target.stream(stream),
                    List.of(Event.builder()
                            .id("evt-group")
                            .source("outbox")
                            .channel("jobs")
                            .payload("send the email")
                            .build()));
        }

        List<StreamMessage<String, String>> read = redis.sync()
                .xreadgroup(Consumer.from("workers", "worker-1"), XReadArgs.StreamOffset.lastConsumed(stream));

        assertThat(read).as("entries delivered to the group").hasSize(1);
        assertThat(read.get(0).getBody())
                .containsEntry("event_id", "evt-group")
                .containsEntry("payload", "send the email");
        assertThat(redis.sync().xack(stream, "workers", read.get(0).getId()))
                .as("acknowledged")
                .isEqualTo(1);
    }

    @Test
    void streamMaxLengthTrimsApproximately() throws Exception {
        String stream = newStream();
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            events.add(Event.builder()
                    .id("e" + i)
                    .source("test")
                    .channel("c")
                    .payload("p" + i)
                    .build());
        }
        try (Sink sink = sink(Map.of("redis.stream-max-length", "10"))) {
            sink.start();
            assertThat(sink.publish(Target.stream(stream), events).confirmed())
                    .as("confirmed")
                    .isEqualTo(1000);
        }

        assertThat(redis.sync().xlen(stream))
                .as("entries kept with MAXLEN ~ 10 (whole macro nodes of 100 are trimmed)")
                .isBetween(10L, 200L);
    }

    @Test
    void anUnknownAclUserFailsToStartWithWrongpassAndNoPassword() {
        URI redisUri = URI.create(TestServices.redisUrl());
        String uri = "redis://nouser:s3cret-pw@" + redisUri.getHost() + ":" + redisUri.getPort();
        Sink sink = sink(uri, Map.of());

        assertThatThrownBy(sink::start)
                .isInstanceOf(ConnectionException.class)
                .hasMessageContaining("WRONGPASS")
                .hasMessageContaining("nouser")
                .hasMessageNotContaining("s3cret-pw");
        sink.close();
    }

    private String newStream() {
        String name = "pgbridge-it-" + UUID.randomUUID();
        streams.add(name);
        return name;
    }

    private static Sink sink(Map<String, String> settings) {
        return sink(TestServices.redisUrl(), settings);
    }

    private static Sink sink(String uri, Map<String, String> settings) {
        return new RedisSinkProvider().create(SinkCompatibilityKit.sinkConfig(uri, settings));
    }
}
