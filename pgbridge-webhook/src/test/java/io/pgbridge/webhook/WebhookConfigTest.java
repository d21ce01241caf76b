package io.pgbridge.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.Event;
import io.pgbridge.PgBridge;
import io.pgbridge.Target;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class WebhookConfigTest {

    private static WebhookConfig config(String uri, Settings settings) {
        return WebhookConfig.from(SinkConfig.of(uri, settings, Executors.defaultThreadFactory()));
    }

    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    @Test
    void signsLikeTheStandardWebhooksReferenceVector() {
        WebhookConfig config = config("https://example.com/hook", Settings.of(Map.of("webhook.secret", SECRET)));
        String signature = new WebhookSigner(config.signingKey())
                .sign(
                        "msg_p5jXN8AQM9LWM0D4loKWxJek",
                        1614265330,
                        "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8));
        assertThat(signature)
                .as("signature of the Standard Webhooks test vector")
                .isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    @Test
    void readsDefaultsHeadersAndBasicAuthFromTheUri() {
        WebhookConfig config = config(
                "https://hook-user:s3cret@example.com:8443/in?x=1",
                Settings.of(Map.of("webhook.headers", "X-Tenant=acme; X-Env = prod")));
        assertThat(config.endpoint().toString())
                .as("endpoint without user info")
                .isEqualTo("https://example.com:8443/in?x=1");
        assertThat(config.headers())
                .as("configured headers and Basic auth from the URI")
                .containsEntry("X-Tenant", "acme")
                .containsEntry("X-Env", "prod")
                .containsEntry("Authorization", "Basic aG9vay11c2VyOnMzY3JldA==");
        assertThat(config.timeout()).as("default timeout").isEqualTo(WebhookConfig.DEFAULT_TIMEOUT);
        assertThat(config.followRedirects()).as("redirects off by default").isFalse();
        assertThat(config.signs()).as("unsigned without a secret").isFalse();
        assertThat(config.toString()).as("toString hides header values").doesNotContain("acme", "s3cret");
    }

    @Test
    void reportsEveryProblemWithoutRevealingSecrets() {
        assertThatThrownBy(() -> config(
                        "ftp://example.com/x",
                        Settings.of(Map.of(
                                "webhook.secret", "whsec_dG9vLXNob3J0",
                                "webhook.headers", "webhook-id=mine;Broken",
                                "webhook.timeout-ms", "-5"))))
                .isInstanceOf(ConfigurationException.class)
                .satisfies(e -> assertThat(((ConfigurationException) e).problems())
                        .as("one line per problem")
                        .hasSize(5))
                .hasMessageContaining("http:// or https://")
                .hasMessageContaining("24 to 64 bytes")
                .hasMessageContaining("set by the sink itself")
                .hasMessageContaining("is not Name=value")
                .hasMessageContaining("PGBRIDGE_WEBHOOK_TIMEOUT_MS")
                .hasMessageNotContaining("dG9vLXNob3J0");
    }

    @Test
    void readsPermanentStatusesRetryingAuthAndNotFoundByDefault() {
        WebhookConfig defaults = config("https://example.com/hook", Settings.empty());
        assertThat(defaults.permanentStatuses())
                .as("default permanent statuses")
                .containsExactly(400, 405, 410, 413, 414, 415, 422)
                .as("401, 403 and 404 are retried: a deploy answers them for a while")
                .doesNotContain(401, 403, 404);
        WebhookConfig custom =
                config("https://example.com/hook", Settings.of(Map.of("webhook.permanent-statuses", " 404, 400,")));
        assertThat(custom.permanentStatuses()).as("configured list").containsExactly(400, 404);
        assertThatThrownBy(() -> config(
                        "https://example.com/hook", Settings.of(Map.of("webhook.permanent-statuses", "400,abc,200"))))
                .isInstanceOf(ConfigurationException.class)
                .satisfies(e -> assertThat(((ConfigurationException) e).problems())
                        .as("one line per bad entry")
                        .hasSize(2))
                .hasMessageContaining("PGBRIDGE_WEBHOOK_PERMANENT_STATUSES")
                .hasMessageContaining("'abc' is not a number")
                .hasMessageContaining("200 is not a status from 300 to 599");
    }

    @Test
    void isSelectedByAnHttpsUpstreamUri() {
        assertThatThrownBy(() -> PgBridge.builder()
                        .postgres("postgresql://app@127.0.0.1:5432/app")
                        .upstream("https://example.com/hook")
                        .setting("webhook.secret", "whsec_not*base64")
                        .routes("people->topic:people")
                        .build())
                .as("the webhook provider validates its settings at build()")
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PGBRIDGE_WEBHOOK_SECRET='****'");
    }

    @Test
    void embedsJsonPayloadsAndQuotesOthers() {
        Target target = Target.topic("people");
        String json = new String(WebhookBody.of(target, event("{\"a\": [1, 2]}")), StandardCharsets.UTF_8);
        assertThat(json).as("JSON payload embedded").contains("\"payload\":{\"a\": [1, 2]}");
        String text = new String(WebhookBody.of(target, event("{\"a\": 1} trailing")), StandardCharsets.UTF_8);
        assertThat(text).as("almost-JSON is a string").contains("\"payload\":\"{\\\"a\\\": 1} trailing\"");
        assertThat(text)
                .as("null routing key and commit time")
                .contains("\"routing_key\":null", "\"commit_time\":null");
    }

    @Test
    void parsesRetryAfterSecondsAndDates() {
        assertThat(WebhookSink.parseRetryAfter("120")).as("delay-seconds").contains(Duration.ofSeconds(120));
        assertThat(WebhookSink.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"))
                .as("a past HTTP-date means now")
                .contains(Duration.ZERO);
        assertThat(WebhookSink.parseRetryAfter("soon")).as("garbage is ignored").isEmpty();
    }

    private static Event event(String payload) {
        return Event.builder()
                .id("e1")
                .source("notify")
                .channel("people")
                .payload(payload)
                .build();
    }

    @Test
    void aConfigBuiltInCodeIsCheckedAsTheSettingsAre() {
        WebhookConfig c = WebhookConfig.builder()
                .uri("https://hook:pw@example.com/hook")
                .secret(SECRET)
                .header("X-Token", "topsecret")
                .timeout(Duration.ofSeconds(3))
                .permanentStatuses(Set.of(410, 400))
                .build();
        assertThat(c.endpoint()).hasToString("https://example.com/hook");
        assertThat(c.headers()).containsKeys("X-Token", "Authorization");
        assertThat(c.signs()).isTrue();
        assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.permanentStatuses()).containsExactly(400, 410);
        assertThat(c.toString()).doesNotContain("topsecret", "pw");
        assertThat(new WebhookSink(c).name()).isEqualTo("webhook");
        assertThat(WebhookConfig.builder()
                        .uri("https://example.com/hook")
                        .build()
                        .toString())
                .as("the builder's defaults are the settings' defaults")
                .isEqualTo(config("https://example.com/hook", Settings.empty()).toString());

        assertThatThrownBy(() -> WebhookConfig.builder().timeout(Duration.ZERO))
                .hasMessage("timeout must be PT0.001S to PT1H, was PT0S");
        assertThatThrownBy(() -> WebhookConfig.builder()
                        .uri("ftp://example.com/x")
                        .secret("whsec_dG9vLXNob3J0")
                        .header("webhook-id", "mine")
                        .permanentStatuses(Set.of(200))
                        .build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("every problem together, the secret redacted")
                        .hasSize(4)
                        .anySatisfy(p -> assertThat(p).contains("http:// or https://"))
                        .anySatisfy(p -> assertThat(p).contains("24 to 64 bytes"))
                        .anySatisfy(p -> assertThat(p).contains("set by the sink itself"))
                        .anySatisfy(p -> assertThat(p).contains("200 is not a status"))
                        .noneSatisfy(p -> assertThat(p).contains("dG9vLXNob3J0")));
    }
}
