package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.Consumer;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
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
import io.pgbridge.spi.PublishResult;
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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
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
    void severalBatchesAreInFlightAtOnceAndAddedInOrder() throws Exception {
        String stream = newStream();
        List<List<Event>> batches = List.of(events("a", 100), events("b", 100), events("c", 100));
        try (Sink sink = sink(Map.of("redis.command-timeout-ms", "20000"))) {
            sink.start();
            List<CompletableFuture<PublishResult>> results = new ArrayList<>();
            try (PausedWrites paused = new PausedWrites(redis, Duration.ofSeconds(30))) {
                for (List<Event> batch : batches) {
                    results.add(sink.publishAsync(Target.stream(stream), batch).toCompletableFuture());
                }
                assertThat(results)
                        .as("three batches written, none answered while Redis holds their commands")
                        .noneMatch(CompletableFuture::isDone);
                assertThat(redis.sync().xlen(stream)).as("entries while paused").isZero();
            }

            for (CompletableFuture<PublishResult> result : results) {
                assertThat(result.get(20, TimeUnit.SECONDS).confirmed()).isEqualTo(100);
            }
        }
        assertThat(eventIds(stream))
                .as("entries, in publishing order")
                .containsExactlyElementsOf(
                        batches.stream().flatMap(List::stream).map(Event::id).toList());
    }

    /**
     * Redis adds 140 more entries to a stream whose last ID is 2^64-1 - 140 (the 141st {@code XADD} is refused: "The
     * stream has exhausted the last possible ID"), so of three pipelined batches of 100 the middle one fails at its
     * 41st event.
     */
    @Test
    void anErrorInTheMiddleBatchConfirmsExactlyTheEventsBeforeIt() throws Exception {
        String stream = newStream();
        String max = Long.toUnsignedString(-1L);
        redis.sync().xadd(stream, new XAddArgs().id(max + "-" + Long.toUnsignedString(-1L - 140)), "seed", "1");
        List<List<Event>> batches = List.of(events("a", 100), events("b", 100), events("c", 100));
        List<PublishResult> results = new ArrayList<>();
        try (Sink sink = sink(Map.of("redis.command-timeout-ms", "20000"))) {
            sink.start();
            List<CompletableFuture<PublishResult>> stages = new ArrayList<>();
            try (PausedWrites paused = new PausedWrites(redis, Duration.ofSeconds(30))) {
                for (List<Event> batch : batches) {
                    stages.add(sink.publishAsync(Target.stream(stream), batch).toCompletableFuture());
                }
            }
            for (CompletableFuture<PublishResult> stage : stages) {
                results.add(stage.get(20, TimeUnit.SECONDS));
            }
        }

        assertThat(results.get(0).confirmed()).as("first batch: confirmed").isEqualTo(100);
        assertThat(results.get(0).isFailure()).as("first batch failed").isFalse();
        assertThat(results.get(1).confirmed()).as("middle batch: confirmed").isEqualTo(40);
        assertThat(results.get(1).isFailure()).as("middle batch failed").isTrue();
        assertThat(results.get(1).reason())
                .as("middle batch: reason")
                .contains("XADD to stream '" + stream + "'")
                .contains("exhausted the last possible ID");
        assertThat(results.get(2).confirmed()).as("last batch: confirmed").isZero();
        assertThat(results.get(2).isFailure()).as("last batch failed").isTrue();
        List<String> ids = eventIds(stream);
        assertThat(ids.subList(1, ids.size()))
                .as("entries after the seed")
                .containsExactlyElementsOf(Stream.concat(
                                batches.get(0).stream(), batches.get(1).stream().limit(40))
                        .map(Event::id)
                        .toList());
    }

    /**
     * Replies that do not come within the command timeout fail every batch in flight, with nothing confirmed, and drop
     * the connection: the next publish goes through a new one.
     */
    @Test
    void batchesWithoutRepliesInTimeFailAndTheNextPublishUsesANewConnection() throws Exception {
        String stream = newStream();
        try (Sink sink = sink(Map.of("redis.command-timeout-ms", "1000"))) {
            sink.start();
            assertThat(sink.publish(Target.stream(stream), events("before", 1)).confirmed())
                    .isEqualTo(1);
            Set<String> before = sinkConnections();
            assertThat(before)
                    .as("the sink's connection in %s", redis.sync().clientList())
                    .isNotEmpty();
            List<CompletableFuture<PublishResult>> results = new ArrayList<>();
            try (PausedWrites paused = new PausedWrites(redis, Duration.ofSeconds(30))) {
                results.add(sink.publishAsync(Target.stream(stream), events("a", 50))
                        .toCompletableFuture());
                results.add(sink.publishAsync(Target.stream(stream), events("b", 50))
                        .toCompletableFuture());
                for (CompletableFuture<PublishResult> result : results) {
                    PublishResult r = result.get(10, TimeUnit.SECONDS);
                    assertThat(r.confirmed()).as("confirmed of %s", r).isZero();
                    assertThat(r.reason()).as("reason").contains("did not reply within 1000 ms");
                }
            }

            PublishResult after = sink.publish(Target.stream(stream), events("after", 1));
            assertThat(after.isFailure())
                    .as("the next publish failed: %s", after)
                    .isFalse();
            await().atMost(WAIT).untilAsserted(() -> assertThat(sinkConnections())
                    .as("the sink's connections: the one without replies is closed")
                    .doesNotContainAnyElementsOf(before)
                    .isNotEmpty());
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

    /**
     * Redis restarted: a publish while it is down fails at once (not after the command timeout), and the first one once
     * it is back opens a new connection that first fences the one the restart closed. With lettuce reconnecting by
     * itself, the restarted Redis would run no {@code CLIENT KILL} (its command statistics start at the restart).
     */
    @Test
    void aConnectionTheRestartOfRedisClosedIsReplacedByAFencedOne() throws Exception {
        String stream = newStream();
        try (Sink sink = sink(Map.of("redis.command-timeout-ms", "30000"))) {
            sink.start();
            assertThat(sink.publish(Target.stream(stream), events("before", 1)).confirmed())
                    .isEqualTo(1);
            TestServices.stop(TestServices.Service.REDIS);
            try {
                PublishResult down = sink.publishAsync(Target.stream(stream), events("down", 5))
                        .toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
                assertThat(down.isFailure()).as("while Redis is down: %s", down).isTrue();
                assertThat(down.confirmed()).as("while Redis is down: %s", down).isZero();
            } finally {
                TestServices.start(TestServices.Service.REDIS);
            }

            List<Event> after = events("after", 5);
            await().atMost(WAIT)
                    .until(() -> !sink.publish(Target.stream(stream), after).isFailure());
            assertThat(eventIds(stream)) // the restart lost the stream (no persistence)
                    .containsExactlyElementsOf(after.stream().map(Event::id).toList());
            assertThat(redis.sync().info("commandstats"))
                    .as("the fence of the connection the restart closed")
                    .contains("cmdstat_client|kill:calls=1,");
        }
    }

    private static List<Event> events(String prefix, int n) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(Event.builder()
                    .id(prefix + "-" + i)
                    .source("test")
                    .channel("c")
                    .payload("p" + i)
                    .build());
        }
        return events;
    }

    private List<String> eventIds(String stream) {
        return redis.sync().xrange(stream, Range.create("-", "+")).stream()
                .map(m -> m.getBody().getOrDefault("event_id", "seed"))
                .toList();
    }

    /** The ids of the clients named {@code pgbridge} (the sinks' connections). */
    private Set<String> sinkConnections() {
        return redis.sync()
                .clientList()
                .lines()
                .filter(line -> line.contains(" name=pgbridge "))
                .map(line -> line.substring(0, line.indexOf(' ')))
                .collect(Collectors.toSet());
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
