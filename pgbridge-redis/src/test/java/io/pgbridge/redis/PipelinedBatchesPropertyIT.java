package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The invariant of {@link PipelinedConnection}, against the real Redis: <em>a batch's result confirms exactly the
 * leading events Redis added</em>, with several batches in flight at once and Redis starting to refuse at any event
 * of any of them. Each try writes 1 to 4 batches of 1 to 30 events while Redis's writes are paused (so that every
 * batch is in flight before Redis answers any), to a stream whose last entry ID is set so that Redis adds exactly
 * {@code budget} more entries and then answers every {@code XADD} with an error ("The stream has exhausted the last
 * possible ID"): each batch must confirm the events Redis added of it and no other, fail exactly when Redis refused
 * one of its events, and the stream must hold the first {@code budget} events, in order.
 */
class PipelinedBatchesPropertyIT {
    /** The largest stream ID part, 2^64 - 1. */
    private static final String MAX = Long.toUnsignedString(-1L);

    private static RedisProbe.SinkWithAdmin redis;

    @BeforeContainer
    static void start() {
        redis = RedisProbe.SinkWithAdmin.open();
    }

    @AfterContainer
    static void stop() {
        redis.close();
    }

    @Property(tries = 40)
    void eachBatchConfirmsExactlyTheEventsRedisAdded(
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 1, max = 30) Integer> sizes,
            @ForAll @IntRange(min = 0, max = 120) int budgetSeed)
            throws Exception {
        int total = sizes.stream().mapToInt(Integer::intValue).sum();
        int budget = budgetSeed % (total + 1);
        String stream = "pgbridge-pipelined-" + UUID.randomUUID();
        Target target = Target.stream(stream);
        StatefulRedisConnection<String, String> admin = redis.admin();
        admin.sync().xadd(stream, new XAddArgs().id(MAX + "-" + Long.toUnsignedString(-1L - budget)), "seed", "1");
        try {
            List<List<Event>> batches = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            for (int b = 0; b < sizes.size(); b++) {
                List<Event> batch = new ArrayList<>();
                for (int i = 0; i < sizes.get(b); i++) {
                    ids.add("b" + b + "-e" + i);
                    batch.add(RedisProbe.event(ids.get(ids.size() - 1)));
                }
                batches.add(batch);
            }
            List<CompletableFuture<PublishResult>> results = new ArrayList<>();
            try (PausedWrites paused = new PausedWrites(admin, Duration.ofSeconds(30))) {
                for (List<Event> batch : batches) {
                    results.add(redis.sink().publishAsync(target, batch).toCompletableFuture());
                }
                assertThat(results)
                        .as("batches undecided while Redis holds their commands: all in flight at once")
                        .noneMatch(CompletableFuture::isDone);
            }

            int before = 0;
            for (int b = 0; b < batches.size(); b++) {
                int size = batches.get(b).size();
                int added = Math.max(0, Math.min(size, budget - before));
                PublishResult result = results.get(b).get(20, TimeUnit.SECONDS);
                assertThat(result.confirmed())
                        .as("batch %d of %s, budget %d", b, sizes, budget)
                        .isEqualTo(added);
                assertThat(result.isFailure())
                        .as("batch %d failed: %s", b, result)
                        .isEqualTo(added < size);
                if (result.isFailure()) {
                    assertThat(result.reason())
                            .contains("XADD to stream '" + stream + "'")
                            .contains("exhausted");
                    assertThat(result.isPermanent()).as("retryable").isFalse();
                }
                before += size;
            }
            List<String> entries = RedisProbe.eventIds(admin, stream);
            assertThat(entries.subList(1, entries.size()))
                    .as("entries after the seed")
                    .containsExactlyElementsOf(ids.subList(0, budget));
        } finally {
            admin.sync().del(stream);
        }
    }
}
