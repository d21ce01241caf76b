package io.pgbridge.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TestServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The viewer page in a real headless Chromium: a person's steps (type a channel, press Listen), an event raised by
 * seed 004's trigger appears pretty-printed. Keeps {@code target/viewer-screenshot.png} as a build artifact.
 */
class ViewerPageIT {
    private static final Path TARGET = Path.of("target");

    @Test
    void showsEventsOfTheChannelsEnteredLive() throws Exception {
        WebSocketSink sink = new WebSocketSink(
                WebSocketConfig.builder().uri("ws://127.0.0.1:0").build());
        try (PeopleTable people = new PeopleTable();
                PgBridge bridge = PgBridge.builder()
                        .postgres(TestServices.postgresUrl())
                        .sink(sink)
                        .routes(people.name + "->topic:people")
                        .build();
                HeadlessChromium browser = new HeadlessChromium(TARGET.resolve("chromium.log"))) {
            bridge.start();
            browser.navigate("http://127.0.0.1:" + sink.port() + "/");
            assertThat(browser.eval("document.title"))
                    .as("viewer page served at /")
                    .isEqualTo("pgbridge viewer");

            browser.eval("document.getElementById('channels').value = 'people';"
                    + " document.getElementById('connect').click(); 'ok'");
            await().atMost(Duration.ofSeconds(15)).until(() -> "connected"
                    .equals(browser.eval("(document.querySelector('[data-channel=people]') || {}).dataset?.state")));
            assertThat(sink.connectedClients("people"))
                    .as("the page holds one WebSocket")
                    .isEqualTo(1);

            people.sql("INSERT INTO " + people.name + " (name, age, height) VALUES ('Stretch', 33, 2.8)");

            await().atMost(Duration.ofSeconds(15))
                    .until(() -> String.valueOf(browser.eval("document.getElementById('events').innerText"))
                            .contains("\"name\": \"Stretch\""));
            assertThat(browser.eval("document.getElementById('events').innerText"))
                    .as("pretty-printed JSON with the trigger's fields")
                    .contains("\"dml_action\": \"INSERT\"")
                    .contains("people");
            Path shot = TARGET.resolve("viewer-screenshot.png");
            browser.screenshot(shot);
            assertThat(Files.size(shot)).as("screenshot written").isGreaterThan(1000);
        }
    }
}
