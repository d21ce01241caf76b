package io.pgbridge.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.support.NamedThreadFactory;
import io.pgbridge.spi.support.PublishResults;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes events to Redis with lettuce. Created by {@link RedisSinkProvider} from
 * {@code PGBRIDGE_UPSTREAM_URI=redis://host:6379}; see {@link RedisConfig} for the settings.
 *
 * <ul>
 *   <li>{@code topic:NAME}: {@code PUBLISH NAME payload}, the seed's pub/sub. <b>At most once, by Redis's design</b>
 *       (redis.io, "Pub/Sub"): Redis keeps nothing for a subscriber that is not connected at that moment, and
 *       disconnects slow subscribers ({@code client-output-buffer-limit pubsub}); the reply only says Redis took the
 *       message. The message is the payload alone: no event id, routing key or headers.
 *   <li>{@code stream:NAME}: {@code XADD NAME [MAXLEN ~ n] * field value ...}, the durable choice; consumers read
 *       with {@code XREAD} or consumer groups ({@code XREADGROUP}, {@code XACK}). Fields, in order: {@code event_id},
 *       {@code source}, {@code channel}, {@code routing_key} (when present), {@code content_type} (when known), one
 *       {@code header.<name>} per header, then {@code payload} (the bytes unchanged).
 * </ul>
 *
 * <p>An event counts as confirmed once Redis replied to its command. That is as durable as the server's persistence
 * (AOF {@code appendonly yes} with {@code appendfsync}; off by default) and replication (asynchronous: a failover
 * can lose acknowledged writes). Batches are pipelined on one connection: {@link #publishAsync} writes a batch's
 * commands and returns, so a route keeps several batches in flight (the pipeline's window) while Redis answers them
 * in order; a batch is decided once its replies are known, or fails {@code redis.command-timeout-ms} after it was
 * written, which also drops the connection (a reply lost on a frozen network path would leave every later command
 * waiting) and the next publish opens a new one, which first fences the dropped one ({@link #replace}). A connection
 * that closed (Redis closed it, or the network) is dropped the same way: lettuce does not reconnect by itself
 * ({@code autoReconnect(false)}), so that every connection the sink publishes on is opened, and fenced, by {@link
 * #replace}. Commands are refused while the connection is down (no queueing); the pipeline retries what failed, so a
 * stream may receive an entry twice after a failure (at least once) and consumers deduplicate on {@code event_id}.
 *
 * <p>Thread-safe: one connection at a time, shared by all delivery threads. Its threads come from the sink's thread
 * factory.
 */
public final class RedisSink implements Sink {
    private static final Logger log = LoggerFactory.getLogger(RedisSink.class);
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

    private final RedisConfig config;
    private final ThreadFactory threads;
    private final Object lock = new Object();
    private ClientResources resources;
    private RedisClient client;
    private PipelinedConnection connection;
    private boolean closed;

    /** A sink for {@code PgBridge.Builder.sink(...)}, its threads daemon threads named {@code pgbridge-redis-<n>}. */
    public RedisSink(RedisConfig config) {
        this(config, new NamedThreadFactory("redis", null));
    }

    /** @param threads creates every thread the Redis client starts */
    public RedisSink(RedisConfig config, ThreadFactory threads) {
        this.config = config;
        this.threads = threads;
    }

    @Override
    public String name() {
        return "redis";
    }

    @Override
    public Set<String> targetKinds() {
        return Set.of("topic", "stream");
    }

    /**
     * Connects, authenticates and selects the database.
     *
     * @throws ConnectionException when Redis cannot be reached within {@code redis.connect-timeout-ms}, or refuses
     *     the credentials ({@code WRONGPASS}, {@code NOAUTH}); the message names the endpoint and the user, never the
     *     password. Nothing keeps running after it.
     */
    @Override
    public void start() {
        synchronized (lock) {
            if (client != null) {
                throw new IllegalStateException("start() can be called once");
            }
            resources = DefaultClientResources.builder()
                    .ioThreadPoolSize(1)
                    .computationThreadPoolSize(1)
                    .threadFactoryProvider(pool -> threads)
                    .build();
            client = RedisClient.create(resources);
            client.setOptions(ClientOptions.builder()
                    // replace() opens every later connection: one lettuce reconnected would not be fenced (its
                    // CLIENT ID unknown), nor would the commands written on it before
                    .autoReconnect(false)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .socketOptions(SocketOptions.builder()
                            .connectTimeout(config.connectTimeout)
                            .build())
                    .build());
        }
        try {
            PipelinedConnection c = connectAtStart();
            synchronized (lock) {
                connection = c;
            }
            log.info("Redis sink connected to {}", config);
        } catch (RuntimeException e) {
            close();
            String who = config.username == null ? "" : " as user '" + config.username + "'";
            throw new ConnectionException(
                    "Cannot connect to Redis " + config.endpoint() + who + ": " + rootMessage(e), e);
        }
    }

    /**
     * The first connection. The handshake is tried a second time when the server closed the connection in its middle
     * without an error reply: Lettuce then reports "Connection closed prematurely", and the reason (such as {@code
     * WRONGPASS} for a wrong user or password) is lost; with a plain Lettuce client on this machine 2 in 1,000
     * connections with a wrong user failed so.
     */
    private PipelinedConnection connectAtStart() {
        try {
            return connect();
        } catch (RuntimeException e) {
            if (!rootMessage(e).contains("Connection closed prematurely")) {
                throw e;
            }
            log.debug("Redis closed the connection during the handshake; trying once more for its reason", e);
            return connect();
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
    }

    /**
     * Always {@link Existence#CANNOT_CHECK}: nothing a route names has to exist in Redis. {@code XADD} creates a
     * missing stream key with its first entry (redis.io, "XADD": "If the key does not exist, as a side effect of
     * running this command the key is created with a stream value", unless {@code NOMKSTREAM}), and a pub/sub channel
     * exists only while someone subscribes, which says nothing about whether a {@code PUBLISH} can succeed.
     */
    @Override
    public Existence targetExists(Target target) {
        return Existence.CANNOT_CHECK;
    }

    /** Publishes through {@link #publishAsync} and waits for its result. */
    @Override
    public PublishResult publish(Target target, List<Event> events) throws InterruptedException {
        return PublishResults.await(publishAsync(target, events));
    }

    /**
     * Writes one command per event on the sink's connection, after those of earlier calls, and returns at once; the
     * result completes once the confirmed prefix is known, at the latest {@code redis.command-timeout-ms} after the
     * commands were written (see {@link PipelinedConnection}). Opens a new connection first ({@link #replace}) when the
     * last one was dropped or closed; the result is a failure confirming nothing when that fails.
     */
    @Override
    public CompletionStage<PublishResult> publishAsync(Target target, List<Event> events) {
        PipelinedConnection current;
        synchronized (lock) {
            if (client == null || closed) {
                return CompletableFuture.completedFuture(
                        PublishResult.failed(0, "the Redis sink is " + (closed ? "closed" : "not started"), null));
            }
            if (!connection.usable()) {
                try {
                    connection = replace(connection);
                    log.info("Redis sink connected again to {}", config.endpoint());
                } catch (RuntimeException e) {
                    return CompletableFuture.completedFuture(PublishResult.failed(
                            0, "cannot connect to Redis " + config.endpoint() + ": " + rootMessage(e), e));
                }
            }
            current = connection;
        }
        if (target.kind().equals("stream")) {
            XAddArgs args = xaddArgs();
            return current.publishAsync(
                    events,
                    "XADD to stream '" + target.name() + "'",
                    (redis, event) -> redis.xadd(target.name(), args, fields(event)));
        }
        return current.publishAsync(
                events,
                "PUBLISH to channel '" + target.name() + "'",
                (redis, event) -> redis.publish(target.name(), event.payload()));
    }

    /** A new connection, authenticated, its database selected. */
    private PipelinedConnection connect() {
        return connect(PipelinedConnection.NO_CLIENT_ID);
    }

    /**
     * Opens every connection after the first, in place of {@code earlier} (dropped because a reply did not come, or
     * closed), holding the sink's invariant: <em>once a connection is returned, every batch in flight on the earlier
     * ones is decided and Redis executes no command written on them any more</em> (unless Redis refused {@code CLIENT
     * KILL} or {@code CLIENT ID} to the sink's user: see {@link #fence}).
     *
     * <p>Without it, commands of {@code earlier} still on their way (a network path that froze and comes back) or held
     * by Redis could be added after the ones written on the new connection, as late duplicates behind the events the
     * route retried. It holds for every earlier connection because each one was fenced by the one after it, lettuce
     * never reconnects by itself (so {@code earlier}'s id is the one it has at Redis), and {@code earlier} is dropped
     * first (its batches decided, such as those of a connection that closed before lettuce failed their commands).
     */
    private PipelinedConnection replace(PipelinedConnection earlier) {
        earlier.drop("the connection to Redis " + config.endpoint() + " closed");
        return connect(earlier.clientId());
    }

    /** A new connection; before it is returned, the client {@code fenced} is killed, unless it is {@code NO_CLIENT_ID}. */
    private PipelinedConnection connect(long fenced) {
        StatefulRedisConnection<String, byte[]> c = client.connect(CODEC, config.redisUri());
        try {
            RedisCommands<String, byte[]> redis = c.sync(); // each command within redis.command-timeout-ms
            if (fenced != PipelinedConnection.NO_CLIENT_ID) {
                fence(redis, fenced);
            }
            return new PipelinedConnection(
                    c, clientId(redis), resources.timer(), config.endpoint(), config.commandTimeout);
        } catch (RuntimeException e) {
            c.closeAsync();
            throw e;
        }
    }

    /**
     * {@code CLIENT KILL ID id}: once Redis replied, no further command of that client runs. Redis frees the client at
     * once, or (a client it is busy with) marks it to be closed as soon as possible, and it parses no more input of a
     * client so marked (networking.c: {@code processInputBuffer} stops at {@code CLIENT_CLOSE_ASAP}); it never kills a
     * client in the middle of a command (redis.io, CLIENT KILL). A reply of 0 (the client is gone already) fences as
     * well. An error reply ({@code NOPERM}: the user may not run it; the command renamed away) leaves the old client
     * alone, with a warning; a timeout or a lost connection fails, so that the next publish fences again.
     */
    private void fence(RedisCommands<String, byte[]> redis, long id) {
        try {
            redis.clientKill(KillArgs.Builder.id(id));
        } catch (RedisCommandExecutionException e) {
            log.warn(
                    "Redis {} refused CLIENT KILL ID {} ({}): commands of the connection dropped before may still be"
                            + " added after the ones of the new connection, as late duplicates; allow the sink's user"
                            + " +client|kill to fence them",
                    config.endpoint(),
                    id,
                    e.getMessage());
        }
    }

    /** {@code CLIENT ID} of a new connection, or {@code NO_CLIENT_ID} (with a warning) when Redis refused it. */
    private long clientId(RedisCommands<String, byte[]> redis) {
        try {
            return redis.clientId();
        } catch (RedisCommandExecutionException e) {
            log.warn(
                    "Redis {} refused CLIENT ID ({}): a connection dropped later cannot be fenced; allow the sink's"
                            + " user +client|id",
                    config.endpoint(),
                    e.getMessage());
            return PipelinedConnection.NO_CLIENT_ID;
        }
    }

    private XAddArgs xaddArgs() {
        XAddArgs args = new XAddArgs();
        return config.streamMaxLength > 0 ? args.maxlen(config.streamMaxLength).approximateTrimming() : args;
    }

    /** The stream entry's fields, in a fixed order. */
    static Map<String, byte[]> fields(Event event) {
        Map<String, byte[]> fields = new LinkedHashMap<>();
        fields.put("event_id", utf8(event.id()));
        fields.put("source", utf8(event.source()));
        fields.put("channel", utf8(event.channel()));
        if (event.routingKey() != null) {
            fields.put("routing_key", utf8(event.routingKey()));
        }
        if (event.contentType() != null) {
            fields.put("content_type", utf8(event.contentType()));
        }
        event.headers().forEach((name, value) -> fields.put("header." + name, utf8(value)));
        fields.put("payload", event.payload());
        return fields;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Closes the connection and the client's threads; batches still in flight fail with what was confirmed by then.
     * Idempotent; failures are logged.
     */
    @Override
    public void close() {
        PipelinedConnection c;
        RedisClient rc;
        ClientResources res;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            c = connection;
            rc = client;
            res = resources;
        }
        try {
            if (c != null) {
                c.close();
            }
            if (rc != null) {
                rc.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
            if (res != null) {
                res.shutdown(0, 2, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
            }
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            log.warn("Closing the Redis connection to {} failed", config.endpoint(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "RedisSink{" + config + '}';
    }
}
