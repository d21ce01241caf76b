package io.pgbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import io.pgbridge.ConfigurationException;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisConfigTest {

    private static RedisConfig config(String uri, Map<String, String> settings) {
        return RedisConfig.from(SinkCompatibilityKit.sinkConfig(uri, settings));
    }

    @Test
    void readsHostPortAndDatabaseFromTheUri() {
        RedisConfig c = config("redis://cache:6380/3", Map.of("redis.database", "5"));

        assertThat(c.endpoint()).as("the path's database wins").isEqualTo("redis://cache:6380/3");
        assertThat(c.redisUri().getDatabase()).isEqualTo(3);
        assertThat(c.redisUri().isSsl()).isFalse();
    }

    @Test
    void redissVerifiesCertificateAndHostname() {
        RedisURI uri = config("rediss://bridge:pw@cache.example", Map.of()).redisUri();

        assertThat(uri.isSsl()).isTrue();
        assertThat(uri.getVerifyMode()).isEqualTo(SslVerifyMode.FULL);
        assertThat(uri.getPort()).isEqualTo(6379);
    }

    @Test
    void aPasswordAloneAuthenticatesTheDefaultUser() {
        RedisConfig c = config("redis://:only%2Fpw@cache", Map.of());

        assertThat(c.username).isNull();
        assertThat(c.password.reveal()).isEqualTo("only/pw");
        assertThat(c.toString()).doesNotContain("only");
    }

    @Test
    void takesCredentialsFromTheUpstreamSettings() {
        RedisConfig c = config("redis://cache", Map.of("upstream.username", "app", "upstream.password", "pw"));

        assertThat(c.username).isEqualTo("app");
        assertThat(c.password.reveal()).isEqualTo("pw");
    }

    @Test
    void reportsEveryBadPartAtOnce() {
        assertThatThrownBy(() -> config("redis://cache/db?x=1", Map.of("upstream.username", "app")))
                .isInstanceOf(ConfigurationException.class)
                .satisfies(e -> assertThat(((ConfigurationException) e).problems())
                        .hasSize(3)
                        .anySatisfy(p -> assertThat(p).contains("database index"))
                        .anySatisfy(p -> assertThat(p).contains("no query"))
                        .anySatisfy(p -> assertThat(p).contains("needs a password")));
    }

    @Test
    void rejectsANegativeMaxLength() {
        assertThatThrownBy(() -> config("redis://cache", Map.of("redis.stream-max-length", "-1")))
                .hasMessageContaining("PGBRIDGE_REDIS_STREAM_MAX_LENGTH='-1'");
    }

    @Test
    void aConfigBuiltInCodeIsCheckedAsTheSettingsAre() {
        RedisConfig c = RedisConfig.builder()
                .uri("rediss://cache.example/2")
                .credentials("app", "topsecret")
                .streamMaxLength(1000)
                .build();
        assertThat(c.tls).isTrue();
        assertThat(c.database).as("the URI's path wins").isEqualTo(2);
        assertThat(c.username).isEqualTo("app");
        assertThat(c.streamMaxLength).isEqualTo(1000);
        assertThat(c.toString()).doesNotContain("topsecret");
        assertThat(new RedisSink(c).name()).isEqualTo("redis");
        assertThat(new RedisSink(c).targetExists(io.pgbridge.Target.of("stream", "orders")))
                .as("XADD creates a missing stream: nothing to check")
                .isEqualTo(io.pgbridge.spi.Sink.Existence.CANNOT_CHECK);

        assertThatThrownBy(() -> RedisConfig.builder().database(-1)).hasMessage("database must be 0 or more, was -1");
        assertThatThrownBy(() ->
                        RedisConfig.builder().uri("redis://:secret@h/x?a=b").build())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("path and query, together, password redacted")
                        .hasSize(2)
                        .noneSatisfy(p -> assertThat(p).contains("secret")));
    }
}
