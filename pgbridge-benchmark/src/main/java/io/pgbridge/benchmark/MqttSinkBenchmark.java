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
        BenchmarkRounds.Settings s =
                BenchmarkRounds.Settings.parse(args, "bare,sink,bridge", "mqtt=mqtt://127.0.0.1:1883");
        String uri = s.args().string("mqtt");
        s.printHeader("MQTT", "QoS 1, ", "");
        String topic = "pgbridge-bench/" + UUID.randomUUID().toString().substring(0, 8);
        BenchmarkRounds.run(s, (loop, count) -> switch (loop) {
            case "bare" -> bare(URI.create(uri), topic, count, s.window());
            case "sink" -> SyntheticBridge.sinkEventsPerSecond(sink(uri), Target.topic(topic), count, s.batch());
            case "bridge" -> SyntheticBridge.eventsPerSecond("bench->topic:" + topic, sink(uri), count, s.batch());
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
