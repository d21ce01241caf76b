package io.pgbridge.mqtt;

import java.util.Map;

/** The sink contract for MQTT 5 at QoS 2: confirmed on PUBCOMP. */
class MqttQos2SinkCompatibilityIT extends MqttSinkCompatibilityIT {
    @Override
    Map<String, String> settings() {
        return Map.of("mqtt.qos", "2");
    }
}
