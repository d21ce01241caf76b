package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.PgBridge;
import io.pgbridge.sinktck.OutboxOutage;
import io.pgbridge.testkit.TestServices;
import java.time.Duration;
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
                outbox.send(3);
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(receiver.received())
                        .as("received; %s", bridge.stats())
                        .hasSizeGreaterThanOrEqualTo(3));
                OutboxOutage.assertSentTraceContext(receiver.received(), 3, "user properties");
            }
        }
    }
}
