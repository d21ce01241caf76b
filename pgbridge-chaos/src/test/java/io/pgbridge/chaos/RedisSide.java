package io.pgbridge.chaos;

import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Redis side (the suite's own server, {@link ChaosServices#REDIS_PORT}): a stream per route, read from its start by
 * one thread per route ({@code XREAD BLOCK}); the entry's {@code event_id} field is the event id. Redis is not
 * stopped: without AOF it forgets the stream on a restart, which would be its loss, not the bridge's.
 */
final class RedisSide implements SinkSide {
    private final String name;
    private final int routes;
    private final URI server = URI.create("redis://127.0.0.1:" + ChaosServices.REDIS_PORT);
    private final RedisClient client = RedisClient.create(server.toString());
    private final List<Thread> readers = new ArrayList<>();
    private final List<StatefulRedisConnection<byte[], byte[]>> connections = new ArrayList<>();
    private volatile boolean closing;

    RedisSide(String name, int routes) {
        this.name = name;
        this.routes = routes;
    }

    private String stream(int route) {
        return name + "_" + Workload.route(route);
    }

    @Override
    public String uri() {
        return "redis://" + server.getHost() + ":" + server.getPort();
    }

    @Override
    public String target(int route) {
        return "stream:" + stream(route);
    }

    @Override
    public Map<String, String> environment() {
        return Map.of("PGBRIDGE_REDIS_COMMAND_TIMEOUT_MS", "5000", "PGBRIDGE_REDIS_CONNECT_TIMEOUT_MS", "5000");
    }

    @Override
    public void consume(Deliveries deliveries) {
        for (int r = 0; r < routes; r++) {
            int route = r;
            StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE);
            connections.add(connection);
            byte[] key = stream(r).getBytes(StandardCharsets.UTF_8);
            Thread reader = new Thread(
                    () -> {
                        String last = "0";
                        while (!closing) {
                            List<StreamMessage<byte[], byte[]>> batch = connection
                                    .sync()
                                    .xread(
                                            XReadArgs.Builder.block(500).count(1000),
                                            XReadArgs.StreamOffset.from(key, last));
                            for (StreamMessage<byte[], byte[]> m : batch) {
                                Map<byte[], byte[]> fields = m.getBody();
                                byte[] payload = null;
                                String eventId = null;
                                for (Map.Entry<byte[], byte[]> f : fields.entrySet()) {
                                    String field = new String(f.getKey(), StandardCharsets.UTF_8);
                                    if (field.equals("payload")) {
                                        payload = f.getValue();
                                    } else if (field.equals("event_id")) {
                                        eventId = new String(f.getValue(), StandardCharsets.UTF_8);
                                    }
                                }
                                deliveries.record(route, Deliveries.rowId(payload), eventId, false);
                                last = m.getId();
                            }
                        }
                    },
                    "chaos-redis-reader-" + r);
            reader.setDaemon(true);
            reader.start();
            readers.add(reader);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        for (Thread reader : readers) {
            reader.join(5_000);
        }
        try (StatefulRedisConnection<byte[], byte[]> c = client.connect(ByteArrayCodec.INSTANCE)) {
            for (int r = 0; r < routes; r++) {
                c.sync().del(stream(r).getBytes(StandardCharsets.UTF_8));
            }
        }
        connections.forEach(StatefulRedisConnection::close);
        client.shutdown();
    }
}
