package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Order on one connection shared by several delivery threads, against the real Redis: <em>each route's events are
 * added in the order its lane published them</em>. Each try starts 2 to 6 publishers at once, one per stream (a lane
 * each), every one publishing its batches of 1 to 500 events through {@link Sink#publishAsync} with up to 4 in flight,
 * as a lane does; each stream must then hold exactly its publisher's events, in publishing order. The chaos suite
 * found the sink breaking it (walToRedisStream, seed -3014620732306670627: 2,109 order violations, no duplicate: the
 * tail of a batch added before its head) while two lanes published full batches after a frozen path.
 */
class ConcurrentBatchesPropertyIT {
    private static final int IN_FLIGHT = 4;

    private static RedisProbe.SinkWithAdmin redis;
    private static ExecutorService publishers;

    @BeforeContainer
    static void start() {
        redis = RedisProbe.SinkWithAdmin.open();
        publishers = Executors.newCachedThreadPool();
    }

    @AfterContainer
    static void stop() {
        publishers.shutdownNow();
        redis.close();
    }

    @Property(tries = 30)
    void eachStreamHoldsItsEventsInPublishingOrder(
            @ForAll @IntRange(min = 2, max = 6) int lanes,
            @ForAll @IntRange(min = 4, max = 24) int batchesPerLane,
            @ForAll @IntRange(min = 1, max = 500) int batchSize)
            throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        CyclicBarrier startTogether = new CyclicBarrier(lanes);
        List<Future<List<String>>> published = new ArrayList<>();
        List<String> streams = new ArrayList<>();
        try {
            for (int lane = 0; lane < lanes; lane++) {
                String stream = "pgbridge-concurrent-" + run + "-" + lane;
                streams.add(stream);
                published.add(publishers.submit(() -> publish(stream, batchesPerLane, batchSize, startTogether)));
            }
            for (int lane = 0; lane < lanes; lane++) {
                List<String> ids = published.get(lane).get(60, TimeUnit.SECONDS);
                List<String> added = RedisProbe.eventIds(redis.admin(), streams.get(lane));
                assertThat(added)
                        .as("stream of lane %d of %d (%d batches of %d)", lane, lanes, batchesPerLane, batchSize)
                        .containsExactlyElementsOf(ids);
            }
        } finally {
            redis.admin().sync().del(streams.toArray(String[]::new));
        }
    }

    /** Publishes as a lane does (batches in order, up to {@value #IN_FLIGHT} in flight); the event ids in order. */
    private static List<String> publish(String stream, int batches, int size, CyclicBarrier startTogether)
            throws Exception {
        Target target = Target.stream(stream);
        List<String> ids = new ArrayList<>();
        List<List<Event>> all = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            List<Event> batch = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                String id = stream + "-" + ids.size();
                ids.add(id);
                batch.add(RedisProbe.event(id));
            }
            all.add(batch);
        }
        startTogether.await(30, TimeUnit.SECONDS);
        ArrayDeque<CompletableFuture<PublishResult>> inFlight = new ArrayDeque<>();
        for (List<Event> batch : all) {
            if (inFlight.size() == IN_FLIGHT) {
                assertConfirmed(inFlight.removeFirst(), size);
            }
            inFlight.addLast(redis.sink().publishAsync(target, batch).toCompletableFuture());
        }
        while (!inFlight.isEmpty()) {
            assertConfirmed(inFlight.removeFirst(), size);
        }
        return ids;
    }

    private static void assertConfirmed(CompletableFuture<PublishResult> result, int size) throws Exception {
        PublishResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.isFailure()).as("failed: %s", r).isFalse();
        assertThat(r.confirmed()).isEqualTo(size);
    }
}
