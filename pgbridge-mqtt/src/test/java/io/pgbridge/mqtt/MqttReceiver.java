package io.pgbridge.mqtt;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** An MQTT 5 subscriber (QoS 2) to one topic filter of the test broker (or another), collecting what arrives. */
final class MqttReceiver implements Receiver {
    private final Mqtt5AsyncClient client;
    private final List<Received> received = new ArrayList<>();

    MqttReceiver(String topicFilter) throws Exception {
        this(URI.create(TestServices.mqttUrl()), topicFilter);
    }

    /** A subscriber to {@code topicFilter} of the broker at {@code uri} ({@code mqtt://host:port}). */
    MqttReceiver(URI uri, String topicFilter) throws Exception {
        client = MqttClient.builder()
                .useMqttVersion5()
                .identifier("pgbridge-test-" + UUID.randomUUID())
                .serverHost(uri.getHost())
                .serverPort(uri.getPort() > 0 ? uri.getPort() : 1883)
                .buildAsync();
        client.connect().get(10, TimeUnit.SECONDS);
        client.subscribeWith()
                .topicFilter(topicFilter)
                .qos(MqttQos.EXACTLY_ONCE)
                .callback(this::onMessage)
                .send()
                .get(10, TimeUnit.SECONDS);
    }

    private void onMessage(Mqtt5Publish publish) {
        Map<String, String> properties = new LinkedHashMap<>();
        publish.getUserProperties()
                .asList()
                .forEach(
                        p -> properties.put(p.getName().toString(), p.getValue().toString()));
        synchronized (received) {
            received.add(
                    new Received(publish.getPayloadAsBytes(), properties.get(MqttSink.EVENT_ID_PROPERTY), properties));
        }
    }

    /** The topic of every message, with its payload as text, in arrival order. */
    @Override
    public List<Received> received() {
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    @Override
    public void close() {
        client.disconnect();
    }
}
