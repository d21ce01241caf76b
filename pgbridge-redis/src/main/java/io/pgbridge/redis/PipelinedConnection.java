package io.pgbridge.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import io.pgbridge.spi.PublishResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lettuce connection with any number of batches in flight (pipelining): {@link #publishAsync} writes a batch's
 * commands (flushed together: the connection does not flush each command; one caller at a time, see {@link #writing})
 * and returns at once, so batches reach Redis whole, in the order it was called, and Redis answers them in that order.
 * Its invariant: <em>a batch's result confirms exactly the leading commands Redis answered with success before the
 * batch was decided, and every batch still in flight on a connection is decided before that connection is
 * dropped</em>. A batch is decided once its replies came
 * (every command succeeded, or the first one that did not failed: an error reply such as {@code WRONGTYPE}, the
 * connection closing), or when they did not all come within the command timeout of its writing.
 *
 * <p>A reply that did not come in time drops the connection, which then {@linkplain #usable() is unusable}: Redis
 * answers in order and lettuce matches replies to commands in order, so once a reply is lost (a frozen network path
 * that dropped bytes) every later command on the connection would wait for ever. A command that failed without an
 * error reply (lettuce saw the connection close, or refused the command because it had) drops it too, and so does
 * {@link #drop(String)}: the sink's client does not reconnect by itself, so a connection that closed stays closed.
 * Dropping decides every batch still in flight on it with what was confirmed by then (replies arriving later are
 * ignored) before the sink can open the next connection, so no batch is confirmed on a dropped connection after a
 * later batch of its route was written on a new one.
 *
 * <p>Thread-safe; replies are taken on lettuce's I/O thread, timeouts on the client's timer thread, and each result
 * completes on one of them, or on the caller's thread when it is decided at once.
 */
final class PipelinedConnection {
    private static final Logger log = LoggerFactory.getLogger(PipelinedConnection.class);

    /** One batch in flight: its replies, in command order. */
    private static final class Batch {
        final List<CompletableFuture<?>> replies;
        final String command;
        final CompletableFuture<PublishResult> result = new CompletableFuture<>();
        Timeout timer; // guarded by lock; null when decided at once
        int succeeded; // guarded by lock: the leading replies found successful so far
        boolean decided; // guarded by lock

        Batch(List<CompletableFuture<?>> replies, String command) {
            this.replies = replies;
            this.command = command;
        }
    }

    /** {@link #clientId()} when Redis did not tell. */
    static final long NO_CLIENT_ID = 0; // Redis numbers clients from 1

    private final StatefulRedisConnection<String, byte[]> connection;
    private final long clientId;
    private final Timer timer;
    private final String endpoint;
    private final Duration timeout;

    /**
     * Held while a batch's commands are buffered and flushed, so that <em>every batch reaches Redis whole and after the
     * batches of earlier calls</em>. Without it, lettuce's buffer is shared by every thread: {@code flushCommands}
     * drains it under lettuce's lock but hands the drained commands to the channel after releasing it, so a thread that
     * drained the head of another thread's batch could be overtaken by that thread flushing the tail (the chaos suite
     * saw batches' tails added before their heads, two lanes publishing at once).
     */
    private final Object writing = new Object();

    private final Object lock = new Object();
    private final Set<Batch> pending = new LinkedHashSet<>(); // guarded by lock: batches not decided yet
    private boolean dropped; // guarded by lock

    /**
     * @param clientId Redis's {@code CLIENT ID} of the connection, or {@link #NO_CLIENT_ID}
     * @param timer where batches time out, the client's (its threads come from the sink's thread factory)
     * @param endpoint Redis's endpoint without credentials, for messages
     * @param timeout how long a batch's replies may take, from the writing of its last command
     */
    PipelinedConnection(
            StatefulRedisConnection<String, byte[]> connection,
            long clientId,
            Timer timer,
            String endpoint,
            Duration timeout) {
        this.connection = connection;
        this.clientId = clientId;
        connection.setAutoFlushCommands(false); // publishAsync flushes each batch
        this.timer = timer;
        this.endpoint = endpoint;
        this.timeout = timeout;
    }

    /**
     * Writes one command per item, in order, after the commands of earlier calls, and returns at once.
     *
     * @param command what the commands do, for messages, such as {@code XADD to stream 'orders'}
     * @param write writes one item's command and returns its reply
     * @return completes (never exceptionally) with every command confirmed, or the confirmed prefix and why the next
     *     command failed, within the command timeout of this call
     */
    <T> CompletableFuture<PublishResult> publishAsync(
            List<T> items, String command, BiFunction<RedisAsyncCommands<String, byte[]>, T, RedisFuture<?>> write) {
        RedisAsyncCommands<String, byte[]> redis = connection.async();
        List<CompletableFuture<?>> replies = new ArrayList<>(items.size());
        synchronized (writing) {
            try {
                for (T item : items) {
                    replies.add(write.apply(redis, item).toCompletableFuture());
                }
            } finally {
                connection.flushCommands(); // the batch in one write
            }
        }
        Batch batch = new Batch(replies, command);
        PublishResult decided;
        synchronized (lock) {
            if (dropped) {
                decided = decide(batch, "the connection to Redis " + endpoint + " was dropped while it was written");
            } else {
                pending.add(batch);
                batch.timer = timer.newTimeout(t -> drop(batch, late()), timeout.toNanos(), TimeUnit.NANOSECONDS);
                decided = null;
            }
        }
        if (decided != null) {
            batch.result.complete(decided);
        } else {
            check(batch);
        }
        return batch.result;
    }

    /**
     * Decides the batch if its replies tell, else waits for a reply not come yet (the last one, else the first one not
     * known). Called once at the start, then only when that reply completed, so at most once per reply.
     */
    private void check(Batch batch) {
        PublishResult decided;
        CompletableFuture<?> next = null;
        Throwable lost = null;
        synchronized (lock) {
            if (batch.decided) {
                return;
            }
            decided = outcome(batch);
            if (decided == null) {
                // Redis answers in order: the last reply usually decides, so one callback per batch, not per reply
                CompletableFuture<?> last = batch.replies.get(batch.replies.size() - 1);
                next = last.isDone() ? batch.replies.get(batch.succeeded) : last;
            } else if (failure(batch) instanceof RedisCommandExecutionException) {
                forget(batch); // an error reply: the connection goes on
            } else {
                lost = failure(batch); // lettuce's own command timeout came first, or the connection closed
            }
        }
        if (lost != null) {
            drop(
                    batch,
                    lost instanceof RedisCommandTimeoutException
                            ? late()
                            : "the connection to Redis " + endpoint + " failed: " + lost.getMessage());
        } else if (decided != null) {
            batch.result.complete(decided);
        } else {
            next.whenComplete((reply, e) -> check(batch));
        }
    }

    /**
     * Drops the connection (once it is closed or unusable, before the sink opens the next one): decides every batch
     * still in flight on it as failed after what its replies confirmed, then closes it. Idempotent.
     *
     * @param why why, for the batches and the log, such as {@code Redis closed the connection}
     */
    void drop(String why) {
        drop(null, why);
    }

    /**
     * Drops the connection because of {@code cause} (a reply to it did not come in time, or one failed without an
     * error reply): decides every batch in flight on it ({@code cause} among them, unless it was decided meanwhile),
     * then closes it.
     */
    private void drop(Batch cause, String why) {
        Decided decided;
        synchronized (lock) {
            if (cause != null && cause.decided) {
                return; // a reply came meanwhile; and a dropped connection has no batch in flight
            }
            decided = decideAll(b -> b == cause ? why : "the connection was dropped: " + why);
        }
        if (!decided.wasDropped()) {
            log.warn("{}: dropping the connection, a new one is opened for the next publish", why);
            connection.closeAsync();
        }
        decided.complete();
    }

    /** Decides every batch still in flight as failed (the sink is closing), then closes the connection. Idempotent. */
    void close() {
        Decided decided;
        synchronized (lock) {
            decided = decideAll(b -> "the Redis sink closed before Redis " + endpoint + " replied");
        }
        decided.complete();
        if (!decided.wasDropped()) { // else closed already
            connection.close();
        }
    }

    /**
     * Marks the connection dropped and decides every batch still in flight: its replies' outcome, else a failure for
     * the reason {@code why} gives it. Called holding {@link #lock}; the results are completed after, outside it.
     */
    private Decided decideAll(Function<Batch, String> why) {
        boolean wasDropped = dropped;
        dropped = true;
        List<Batch> batches = new ArrayList<>(pending);
        List<PublishResult> results = new ArrayList<>();
        for (Batch b : batches) {
            results.add(decide(b, why.apply(b)));
        }
        return new Decided(wasDropped, batches, results);
    }

    /** The batches {@link #decideAll} decided, their results, and whether the connection was dropped before. */
    private record Decided(boolean wasDropped, List<Batch> batches, List<PublishResult> results) {
        /** Completes the batches' results, outside the lock (a result's callbacks run here). */
        void complete() {
            for (int i = 0; i < batches.size(); i++) {
                batches.get(i).result.complete(results.get(i));
            }
        }
    }

    /**
     * Redis's {@code CLIENT ID} of the connection, or {@link #NO_CLIENT_ID}: taken when it was opened, and it stays the
     * connection's id, because the sink's client does not reconnect by itself (a connection that closed is dropped).
     */
    long clientId() {
        return clientId;
    }

    /** Whether another batch may use this connection: it was not dropped, and lettuce has not seen it close. */
    boolean usable() {
        synchronized (lock) {
            return !dropped && connection.isOpen();
        }
    }

    /** The batch's result from its replies so far, or {@code null} while a reply it depends on has not come. */
    private PublishResult outcome(Batch b) {
        int n = b.replies.size();
        while (b.succeeded < n
                && b.replies.get(b.succeeded).isDone()
                && !b.replies.get(b.succeeded).isCompletedExceptionally()) {
            b.succeeded++;
        }
        if (b.succeeded == n) {
            return PublishResult.confirmed(n);
        }
        Throwable e = failure(b);
        if (e == null) {
            return null;
        }
        return e instanceof RedisCommandTimeoutException
                ? PublishResult.failed(b.succeeded, late(), e)
                : PublishResult.failed(b.succeeded, b.command + " on " + endpoint + " failed: " + e.getMessage(), e);
    }

    /** Decides a batch in flight: its replies' outcome, else a failure for {@code reason} after what they confirmed. */
    private PublishResult decide(Batch b, String reason) {
        PublishResult result = outcome(b);
        forget(b);
        return result != null ? result : PublishResult.failed(b.succeeded, reason, null);
    }

    private String late() {
        return "Redis " + endpoint + " did not reply within " + timeout.toMillis() + " ms";
    }

    /** Marks the batch decided and forgets it. */
    private void forget(Batch b) {
        b.decided = true;
        pending.remove(b);
        if (b.timer != null) {
            b.timer.cancel();
        }
    }

    /**
     * Why the first reply not known to have succeeded failed; {@code null} while it has not come, or when every reply
     * succeeded.
     */
    private static Throwable failure(Batch b) {
        if (b.succeeded == b.replies.size()) {
            return null;
        }
        CompletableFuture<?> reply = b.replies.get(b.succeeded);
        if (!reply.isCompletedExceptionally()) {
            return null;
        }
        try {
            reply.getNow(null);
            throw new IllegalStateException("a reply completed exceptionally returned");
        } catch (CompletionException e) {
            return e.getCause() != null ? e.getCause() : e;
        } catch (CancellationException e) {
            return e;
        }
    }
}
