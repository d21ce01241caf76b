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
}
