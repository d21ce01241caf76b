package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.Target;
import io.pgbridge.sinktck.RetriedRefusal;
import io.pgbridge.sinktck.RetriedRefusal.Outcome;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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

    private static Process mosquitto;
    private static int port;
    private static Path acl;

    @BeforeAll
    static void startPrivateBroker() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        acl = dir.resolve("acl");
        Files.writeString(acl, "topic read #\ntopic readwrite +/taken\n");
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "listener " + port + " 127.0.0.1",
                        "allow_anonymous true",
                        "acl_file " + acl,
                        "persistence false",
                        "user " + System.getProperty("user.name"),
                        ""));
        mosquitto = new ProcessBuilder("mosquitto", "-c", conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile())
                .start();
        await("private Mosquitto on port " + port)
                .atMost(Duration.ofSeconds(15))
                .until(() -> {
                    try (Socket s = new Socket("127.0.0.1", port)) {
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                });
    }

    @AfterAll
    static void stopPrivateBroker() throws Exception {
        if (mosquitto != null) {
            mosquitto.destroy();
            mosquitto.waitFor(10, TimeUnit.SECONDS);
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
        URI broker = URI.create("mqtt://127.0.0.1:" + port);
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
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(mosquitto.pid()))
                .redirectErrorStream(true)
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0)
                .as("kill -HUP mosquitto")
                .isTrue();
    }
}
