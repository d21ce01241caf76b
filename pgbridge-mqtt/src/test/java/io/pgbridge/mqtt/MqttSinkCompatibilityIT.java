package io.pgbridge.mqtt;

import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/** The sink contract for MQTT 5 at QoS 1, against the test broker (Mosquitto). */
class MqttSinkCompatibilityIT extends BrokerSinkCompatibilityKit {

    /** Settings beyond the short publish timeout the kit needs; subclasses vary the protocol and QoS. */
    Map<String, String> settings() {
        return Map.of();
    }

    @Override
    protected Sink createSink(String uri) {
        Map<String, String> settings = new HashMap<>(settings());
        settings.put("mqtt.publish-timeout-ms", "3000");
        settings.put("mqtt.connect-timeout-ms", "5000");
        return new MqttSinkProvider().create(sinkConfig(uri, settings));
    }

    @Override
    protected String brokerUri() {
        return TestServices.mqttUrl();
    }

    @Override
    protected Target newTarget() {
        return Target.topic("pgbridge-kit/" + UUID.randomUUID());
    }

    @Override
    protected Receiver receiver(Target target) throws Exception {
        return new MqttReceiver(target.name());
    }

    @Override
    protected TestServices.Service service() {
        return TestServices.Service.MQTT;
    }
}
