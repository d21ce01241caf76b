package io.pgbridge.mqtt;

import io.pgbridge.Target;
import io.pgbridge.sinktck.RetriedRefusal;
import io.pgbridge.sinktck.RetriedRefusal.Outcome;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Duplicates after k retries do not depend on k, against a real Mosquitto (a private one this test starts, since it
 * rewrites its ACL file): the ACL denies the topic of one event of a 40-event batch, so Mosquitto answers its QoS 1
 * PUBLISH with an MQTT 5 PUBACK whose reason code is NOT_AUTHORIZED (0x87), while the 29 events behind it, on an
 * allowed topic, are acknowledged and delivered. The bridge retries the denied event alone 2 or 8 times; then the ACL
 * allows it and Mosquitto reloads it (SIGHUP). See {@link RetriedRefusal}.
 */
class MqttRefusalRetriesIT {
    private static final int EVENTS = 40;
    private static final int REFUSED = 10;

    @TempDir
    static Path dir;

    private static PrivateMosquitto mosquitto;
    private static Path acl;

    @BeforeAll
    static void startPrivateBroker() throws Exception {
        acl = dir.resolve("acl");
        Files.writeString(acl, "topic read #\ntopic readwrite +/taken\n");
        mosquitto = new PrivateMosquitto(dir, "allow_anonymous true", "acl_file " + acl);
    }

    @AfterAll
    static void stopPrivateBroker() throws Exception {
        if (mosquitto != null) {
            mosquitto.close();
        }
    }

    @Test
    void aTopicDeniedByTheAclRetriedTwiceOrEightTimesAddsTheSameDuplicates() throws Exception {
        RetriedRefusal.assertRetriesAddNothing(denied(2), denied(8), "NOT_AUTHORIZED", true);
    }

    private Outcome denied(int retries) throws Exception {
        Files.writeString(acl, "topic read #\ntopic readwrite +/taken\n");
        reloadAcl();
        String topic = "pgbridge-refusal-" + UUID.randomUUID();
        URI broker = mosquitto.uri(null);
        try (MqttReceiver receiver = new MqttReceiver(broker, topic + "/#")) {
            return RetriedRefusal.run(
                    new MqttSinkProvider()
                            .create(SinkCompatibilityKit.sinkConfig(
                                    broker.toString(),
                                    Map.of("mqtt.topic-separator", "/", "mqtt.publish-timeout-ms", "5000"))),
                    Target.topic(topic),
                    receiver,
                    EVENTS,
                    REFUSED,
                    retries,
                    (i, event) -> event.routingKey(i == REFUSED ? "held" : "taken"),
                    () -> {
                        Files.writeString(acl, "topic readwrite #\n");
                        reloadAcl();
                    });
        }
    }

    /** Mosquitto rereads its ACL file on SIGHUP. */
    private static void reloadAcl() throws Exception {
        mosquitto.signal("HUP");
    }
}
