package io.pgbridge.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactionTest {

    @Test
    void hidesPasswordsInUris() {
        assertThat(Redaction.redact("amqp://guest:s3cr%40t@rabbit:5672/%2f"))
                .isEqualTo("amqp://guest:****@rabbit:5672/%2f");
        assertThat(Redaction.redact("postgresql://app:p@ss@db:5432/app"))
                .doesNotContain("p@ss")
                .contains("app:****@");
        assertThat(Redaction.redact("redis://:onlypass@localhost:6379")).isEqualTo("redis://:****@localhost:6379");
    }

    @Test
    void hidesPasswordParameters() {
        assertThat(Redaction.redact("jdbc:postgresql://db/app?user=app&password=hunter2&ssl=true"))
                .isEqualTo("jdbc:postgresql://db/app?user=app&password=****&ssl=true");
    }

    @Test
    void leavesTextWithoutSecretsAlone() {
        assertThat(Redaction.redact("mqtt://127.0.0.1:1883")).isEqualTo("mqtt://127.0.0.1:1883");
        assertThat(Redaction.redact("amqp://guest@rabbit")).isEqualTo("amqp://guest@rabbit");
        assertThat(Redaction.redact(null)).isNull();
    }
}
