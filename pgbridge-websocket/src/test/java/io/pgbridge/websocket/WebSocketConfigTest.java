package io.pgbridge.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridge;
import io.pgbridge.spi.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebSocketConfigTest {
    @Test
    void defaultsToLoopbackPort7700AndEveryChannel() {
        WebSocketConfig config = WebSocketConfig.of(null, Settings.empty());
        assertThat(config.host()).as("bind address").isEqualTo("127.0.0.1");
        assertThat(config.port()).as("port").isEqualTo(7700);
        assertThat(config.basePath()).as("base path").isEqualTo("/");
        assertThat(config.channelAllowed("anything")).as("default allow-list *").isTrue();
        assertThat(config.requiresToken()).as("no token by default").isFalse();
    }

    @Test
    void readsBasePathGlobsAndTokenScopes() {
        String token = "0123456789abcdef-reader";
        WebSocketConfig config = WebSocketConfig.of(
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
        assertThatThrownBy(() -> WebSocketConfig.of(
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
}
