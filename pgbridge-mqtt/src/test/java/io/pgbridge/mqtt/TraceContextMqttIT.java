package io.pgbridge.mqtt;

import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import io.pgbridge.testkit.TestServices;
import org.junit.jupiter.api.Test;

/** The W3C trace context given to {@code pgbridge.send} arrives as MQTT 5 user properties. */
class TraceContextMqttIT {

    @Test
    void traceparentAndTracestateArriveAsUserProperties() throws Exception {
        try (OutboxOutage outbox = OutboxOutage.install("pgb_mqtt_trace_")) {
            String topic = outbox.schema() + "/events";
            try (MqttReceiver receiver = new MqttReceiver(outbox.schema() + "/#"); // topic "<topic>.<routing key>"
                    PgBridge bridge = outbox.builder(TestServices.mqttUrl(), "events->topic:" + topic, "polling")
                            .build()) {
                bridge.start();
                outbox.sendAndAssertTraceContext(bridge, receiver, 3, "user properties");
            }
        }
    }
}
