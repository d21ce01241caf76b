package io.pgbridge.mqtt;

import java.util.Map;

/** The sink contract for MQTT 3.1.1, which has no user properties: payloads only. */
class Mqtt311SinkCompatibilityIT extends MqttSinkCompatibilityIT {
    @Override
    Map<String, String> settings() {
        return Map.of("mqtt.protocol-version", "3.1.1");
    }

    @Override
    protected boolean carriesEventId() {
        return false;
    }

    @Override
    protected boolean carriesHeaders() {
        return false;
    }
}
