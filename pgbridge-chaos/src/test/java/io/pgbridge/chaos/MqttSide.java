package io.pgbridge.chaos;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperty;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The MQTT side (the suite's own Mosquitto, {@link ChaosServices#MQTT_PORT}): a topic per route, a QoS 1 subscriber per
 * run recording the event id from the {@code pgbridge-event-id} user property. The broker is not stopped: Mosquitto
 * without persistence forgets acknowledged messages on a restart, which would be its loss, not the bridge's. It runs
 * with {@code max_queued_messages 0} (see chaos-services.sh), and its {@value #DROPPED} counter tells a message it
 * dropped after acknowledging it apart from one the bridge never delivered.
 */
final class MqttSide implements SinkSide {
    private final String name;
    private final int routes;
    private final URI broker = URI.create("mqtt://127.0.0.1:" + ChaosServices.MQTT_PORT);
    /** Mosquitto's count of messages it dropped (queue limits), since it started; published every sys_interval. */
    static final String DROPPED = "$SYS/broker/publish/messages/dropped";

    private final Mqtt5AsyncClient client;
    private final AtomicLong droppedAtStart = new AtomicLong(-1);
    private final AtomicLong dropped = new AtomicLong(-1);

    MqttSide(String name, int routes) throws Exception {
        this.name = name;
        this.routes = routes;
        client = MqttClient.builder()
                .useMqttVersion5()
                .identifier("chaos-" + UUID.randomUUID())
                .serverHost(broker.getHost())
                .serverPort(broker.getPort())
                .buildAsync();
        client.connect().get(30, TimeUnit.SECONDS);
    }

    private String topic(int route) {
        return name + "_" + Workload.route(route);
    }

    @Override
    public String uri() {
        return "mqtt://" + broker.getHost() + ":" + broker.getPort();
    }

    @Override
    public String target(int route) {
        return "topic:" + topic(route);
    }

    @Override
    public Map<String, String> environment() {
        return Map.of("PGBRIDGE_MQTT_QOS", "1", "PGBRIDGE_MQTT_PUBLISH_TIMEOUT_MS", "5000");
    }

    @Override
    public void consume(Deliveries deliveries) throws Exception {
        // retained: the current value arrives on subscribing, and becomes the baseline of this run
        client.subscribeWith()
                .topicFilter(DROPPED)
                .qos(MqttQos.AT_MOST_ONCE)
                .callback(publish -> {
                    long count = Long.parseLong(new String(publish.getPayloadAsBytes(), StandardCharsets.US_ASCII));
                    droppedAtStart.compareAndSet(-1, count);
                    dropped.set(count);
                })
                .send()
                .get(30, TimeUnit.SECONDS);
        for (int r = 0; r < routes; r++) {
            int route = r;
            client.subscribeWith()
                    .topicFilter(topic(r))
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .callback(publish -> deliveries.record(
                            route,
                            Deliveries.rowId(publish.getPayloadAsBytes()),
                            publish.getUserProperties().asList().stream()
                                    .filter(p -> p.getName().toString().equals("pgbridge-event-id"))
                                    .map(Mqtt5UserProperty::getValue)
                                    .map(Object::toString)
                                    .findFirst()
                                    .orElse(null),
                            false))
                    .send()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public long brokerDropped() {
        long start = droppedAtStart.get();
        return start < 0 ? 0 : dropped.get() - start;
    }

    @Override
    public void close() throws Exception {
        client.disconnect().get(30, TimeUnit.SECONDS);
    }
}
