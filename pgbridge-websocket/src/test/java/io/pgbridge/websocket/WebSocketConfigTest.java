package io.pgbridge.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridge;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class WebSocketConfigTest {
    private static WebSocketConfig config(String uri, Settings settings) {
        return WebSocketConfig.from(SinkConfig.of(uri, settings, Executors.defaultThreadFactory()));
    }

    @Test
    void defaultsToLoopbackPort7700AndEveryChannel() {
        WebSocketConfig config = config(null, Settings.empty());
        assertThat(config.host()).as("bind address").isEqualTo("127.0.0.1");
        assertThat(config.port()).as("port").isEqualTo(7700);
        assertThat(config.basePath()).as("base path").isEqualTo("/");
        assertThat(config.channelAllowed("anything")).as("default allow-list *").isTrue();
        assertThat(config.requiresToken()).as("no token by default").isFalse();
    }

    @Test
    void readsBasePathGlobsAndTokenScopes() {
        String token = "0123456789abcdef-reader";
        WebSocketConfig config = config(
                "ws://0.0.0.0:9000/pgbridge/",
                Settings.of(Map.of("websocket.channels", "people, orders_*", "websocket.tokens", token + "=orders_?")));
        assertThat(config.basePath()).as("base path without trailing slash").isEqualTo("/pgbridge");
        assertThat(config.channelAllowed("orders_eu")).as("glob *").isTrue();
        assertThat(config.channelAllowed("ordersX")).as("not matching").isFalse();
        assertThat(config.channelAllowed("people.x")).as("dot is literal").isFalse();
        assertThat(config.tokenAllows(token, "orders_1")).as("token scope ?").isTrue();
        assertThat(config.tokenAllows(token, "people"))
                .as("outside the token's scope")
                .isFalse();
        assertThat(config.toString()).as("toString hides tokens").doesNotContain(token);
    }

    @Test
    void refusesWssAndBadSettingsWithClearMessages() {
        assertThatThrownBy(() -> config(
                        "wss://127.0.0.1:7700",
                        Settings.of(Map.of(
                                "websocket.channels", "a/b",
                                "websocket.allowed-origins", "evil.example",
                                "websocket.tokens", "short=*"))))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("wss (TLS) is not supported")
                .hasMessageContaining("glob 'a/b'")
                .hasMessageContaining("'evil.example' is not scheme://host[:port]")
                .hasMessageContaining("at least 16 characters")
                .hasMessageNotContaining("short=");
    }

    @Test
    void isSelectedByAWsUpstreamUriAndChecksRoutesAgainstTheAllowList() {
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://app@127.0.0.1:5432/app")
                        .upstream("ws://127.0.0.1:7700")
                        .setting("websocket.channels", "people")
                        .routes("people->topic:people, orders->topic:orders, jobs->queue:jobs")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("topic 'orders' is outside PGBRIDGE_WEBSOCKET_CHANNELS")
                .hasMessageContaining("target kind 'queue' is unknown to sink websocket")
                .hasMessageNotContaining("people->topic:people'");
    }

    @Test
    void aConfigBuiltInCodeIsCheckedAsTheSettingsAre() {
        String token = "0123456789abcdef-reader";
        WebSocketConfig c = WebSocketConfig.builder()
                .uri("ws://0.0.0.0:9000/events/")
                .channels("people", "orders_*")
                .allowedOrigins("HTTPS://App.example.com")
                .token(token, "orders_?")
                .maxConnections(10)
                .build();
        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.port()).isEqualTo(9000);
        assertThat(c.basePath()).isEqualTo("/events");
        assertThat(c.channelAllowed("orders_eu")).isTrue();
        assertThat(c.channelAllowed("jobs")).isFalse();
        assertThat(c.originListed("https://app.example.com"))
                .as("origins compare in lower case")
                .isTrue();
        assertThat(c.tokenAllows(token, "orders_1")).isTrue();
        assertThat(c.maxConnections()).isEqualTo(10);
        assertThat(c.toString()).doesNotContain(token);
        assertThat(new WebSocketSink(c).name()).isEqualTo("websocket");
        assertThat(WebSocketConfig.builder().build().toString())
                .as("the builder's defaults are the settings' defaults")
                .isEqualTo(config(null, Settings.empty()).toString());

        assertThatThrownBy(() -> WebSocketConfig.builder().clientQueueMax(0))
                .hasMessage("clientQueueMax must be 1 to 1000000, was 0");
        assertThatThrownBy(() -> WebSocketConfig.builder()
                        .uri("wss://127.0.0.1:7700")
                        .channels("a/b")
                        .allowedOrigins("evil.example")
                        .token("short", "*")
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("every problem together, the token redacted")
                        .hasSize(4)
                        .anySatisfy(p -> assertThat(p).contains("wss (TLS) is not supported"))
                        .anySatisfy(p -> assertThat(p).contains("glob 'a/b'"))
                        .anySatisfy(p -> assertThat(p).contains("'evil.example' is not scheme://host[:port]"))
                        .anySatisfy(p -> assertThat(p).contains("at least 16 characters"))
                        .noneSatisfy(p -> assertThat(p).contains("short")));
    }
}
