package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials and the broker's packet size limit, against a private Mosquitto that this test starts on a free port
 * with {@code allow_anonymous false}, a password file and {@code max_packet_size} (the shared broker allows anonymous
 * clients and is never reconfigured).
 */
class MqttPrivateBrokerIT {
    private static final String USER = "pgbridge";
    private static final String PASSWORD = "right-secret";
    private static final int MAX_PACKET_SIZE = 4096;

    @TempDir
    static Path dir;

    private static PrivateMosquitto mosquitto;

    @BeforeAll
    static void startPrivateBroker() throws Exception {
        Path passwords = dir.resolve("passwd");
        Process passwd = new ProcessBuilder("mosquitto_passwd", "-b", "-c", passwords.toString(), USER, PASSWORD)
                .redirectErrorStream(true)
                .start();
        assertThat(passwd.waitFor(30, TimeUnit.SECONDS) && passwd.exitValue() == 0)
                .as("mosquitto_passwd: %s", new String(passwd.getInputStream().readAllBytes()))
                .isTrue();
        mosquitto = new PrivateMosquitto(
                dir, "allow_anonymous false", "password_file " + passwords, "max_packet_size " + MAX_PACKET_SIZE);
    }

    @AfterAll
    static void stopPrivateBroker() throws Exception {
        if (mosquitto != null) {
            mosquitto.close();
        }
    }

    @Test
    void theRightPasswordConnectsAndPublishes() throws Exception {
        try (Sink sink = sink(USER + ":" + PASSWORD, Map.of())) {
            sink.start();

            assertThat(sink.publish(Target.topic("pgbridge-it/credentials"), List.of(event("hello")))
                            .confirmed())
                    .as("confirmed")
                    .isEqualTo(1);
        }
    }

    @Test
    void aPayloadOverTheBrokersMaximumPacketSizeIsRefusedForGood() throws Exception {
        try (Sink sink = sink(USER + ":" + PASSWORD, Map.of())) {
            sink.start();
            Target target = Target.topic("pgbridge-it/limits");

            PublishResult result = sink.publish(target, List.of(event("x".repeat(10_000)), event("fits")));

            assertThat(result.confirmed()).as("confirmed (%s)", result).isZero();
            assertThat(result.isPermanent()).as("refused for good").isTrue();
            assertThat(result.reason()).contains("10000 bytes", "maximum packet size of " + MAX_PACKET_SIZE);
            assertThat(sink.publish(target, List.of(event("x".repeat(1_000)))).confirmed())
                    .as("a payload that fits")
                    .isEqualTo(1);
        }
    }

    @Test
    void aWrongPasswordFailsWithTheConnackReasonAndWithoutThePassword() {
        Sink sink = sink(USER + ":wrong-secret", Map.of());

        assertThatThrownBy(sink::start)
                .isInstanceOf(ConnectionException.class)
                .hasMessageFindingMatch("CONNACK (NOT_AUTHORIZED|BAD_USER_NAME_OR_PASSWORD)")
                .hasMessageContaining("user '" + USER + "'")
                .hasMessageNotContaining("wrong-secret");
    }

    @Test
    void aWrongPasswordFromTheSettingsFailsTheSameWayWithMqtt311() {
        Sink sink = sink(
                null,
                Map.of(
                        "upstream.username", USER,
                        "upstream.password", "wrong-secret",
                        "mqtt.protocol-version", "3.1.1"));

        assertThatThrownBy(sink::start)
                .isInstanceOf(ConnectionException.class)
                .hasMessageFindingMatch("CONNACK (NOT_AUTHORIZED|BAD_USER_NAME_OR_PASSWORD)")
                .hasMessageNotContaining("wrong-secret");
    }

    private static Sink sink(String userInfo, Map<String, String> settings) {
        return new MqttSinkProvider()
                .create(SinkCompatibilityKit.sinkConfig(mosquitto.uri(userInfo).toString(), settings));
    }

    private static Event event(String payload) {
        return Event.builder()
                .id(UUID.randomUUID().toString())
                .source("test")
                .channel("private_broker")
                .payload(payload)
                .build();
    }
}
