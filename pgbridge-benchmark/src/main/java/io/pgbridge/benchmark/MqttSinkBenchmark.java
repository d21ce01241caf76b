package io.pgbridge.benchmark;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.mqtt.MqttSinkProvider;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The MQTT sink against a bare HiveMQ-client loop, in the same run: {@code events} events (default 100,000) of ~200
 * bytes, MQTT 5 at QoS 1 to one topic, with the sink's PUBLISH properties (content type, user properties
 * {@code pgbridge-event-id} and {@code pgbridge-channel}). No subscriber listens: the broker drops each message after
 * its PUBACK.
 *
 * <ul>
 *   <li>{@code bare}: one thread publishing with one {@link Mqtt5AsyncClient}, at most {@code window} (default 2,000,
 *       a lane's 4 batches of 500) PUBLISHes unacknowledged; the client itself keeps no more QoS 1 flows open than
 *       the broker's Receive Maximum (Mosquitto: {@code max_inflight_messages}, 20 by default).
 *   <li>{@code sink}: {@link Sink#publish} called by one thread in batches of {@code batch} (default 500, the
 *       pipeline's {@code delivery.max-batch}), each waited for: one batch in flight.
 *   <li>{@code bridge}: the whole pipeline ({@link SyntheticBridge}) on one route to the topic.
 * </ul>
 *
 * Warm-up, then {@code rounds} (default 4) rounds of the loops, as {@link BenchmarkRounds} prints them. Arguments (all
 * optional): {@code events=100000 batch=500 window=2000 rounds=4 only=bare,sink,bridge mqtt=mqtt://127.0.0.1:1883}.
 */
public final class MqttSinkBenchmark {
    private MqttSinkBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args,
                "events=100000",
                "batch=500",
                "window=2000",
                "rounds=4",
                "only=bare,sink,bridge",
                "mqtt=mqtt://127.0.0.1:1883");
        int events = a.integer("events");
        int batch = a.integer("batch");
        int window = a.integer("window");
        int rounds = a.integer("rounds");
        List<String> loops = a.list("only");
        String mqtt = a.string("mqtt");
        System.out.printf(
                Locale.ROOT,
                "MQTT sink benchmark: %d events, QoS 1, batch %d, bare window %d, %d cores%n",
                events,
                batch,
                window,
                Runtime.getRuntime().availableProcessors());
        String topic = "pgbridge-bench/" + UUID.randomUUID().toString().substring(0, 8);
        String uri = mqtt;
        int n = batch;
        int w = window;
        BenchmarkRounds.run(loops, rounds, events, (loop, count) -> switch (loop) {
            case "bare" -> bare(URI.create(uri), topic, count, w);
            case "sink" -> SyntheticBridge.sinkEventsPerSecond(sink(uri), Target.topic(topic), count, n);
            case "bridge" -> SyntheticBridge.eventsPerSecond("bench->topic:" + topic, sink(uri), count, n);
            default -> throw new IllegalArgumentException("unknown loop " + loop);
        });
    }

    private static double bare(URI uri, String topic, int events, int window) throws Exception {
        Mqtt5AsyncClient client = MqttClient.builder()
                .useMqttVersion5()
                .identifier("pgbridge-bench-" + UUID.randomUUID())
                .serverHost(uri.getHost())
                .serverPort(uri.getPort() > 0 ? uri.getPort() : 1883)
                .buildAsync();
        client.connect().get(10, TimeUnit.SECONDS);
        try {
            Semaphore room = new Semaphore(window);
            CountDownLatch done = new CountDownLatch(events);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long start = System.nanoTime();
            for (int i = 0; i < events; i++) {
                Event e = SyntheticBridge.event(i);
                room.acquire();
                client.publish(Mqtt5Publish.builder()
                                .topic(topic)
                                .qos(MqttQos.AT_LEAST_ONCE)
                                .payload(e.payloadBuffer())
                                .contentType(e.contentType())
                                .userProperties()
                                .add("pgbridge-event-id", e.id())
                                .add("pgbridge-channel", e.channel())
                                .applyUserProperties()
                                .build())
                        .whenComplete((r, t) -> {
                            if (t != null || r.getError().isPresent()) {
                                failure.compareAndSet(
                                        null, t != null ? t : r.getError().get());
                            }
                            room.release();
                            done.countDown();
                        });
            }
            if (!done.await(5, TimeUnit.MINUTES) || failure.get() != null) {
                throw new IllegalStateException("bare loop: PUBACKs missing or failed", failure.get());
            }
            return events / ((System.nanoTime() - start) / 1e9);
        } finally {
            client.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    private static Sink sink(String uri) {
        return new MqttSinkProvider()
                .create(SinkConfig.of(uri, Settings.of(Map.of("mqtt.qos", "1")), Executors.defaultThreadFactory()));
    }
}
