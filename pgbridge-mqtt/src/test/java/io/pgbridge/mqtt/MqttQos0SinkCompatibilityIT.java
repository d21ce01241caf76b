package io.pgbridge.mqtt;

import java.util.Map;

/** The sink contract for MQTT 5 at QoS 0: at most once, confirmed once written to the network. */
class MqttQos0SinkCompatibilityIT extends MqttSinkCompatibilityIT {
    @Override
    Map<String, String> settings() {
        return Map.of("mqtt.qos", "0");
    }
}
