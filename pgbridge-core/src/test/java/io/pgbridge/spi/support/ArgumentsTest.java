package io.pgbridge.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.spi.Setting;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ArgumentsTest {
    private static final Setting TIMEOUT = Setting.durationMs("x.timeout-ms", "a timeout", 1_000, 10, 60_000);
    private static final Setting COUNT = Setting.integer("x.count", "a count", 5, 1, 100);

    @Test
    void takesEveryValueTheSettingTakesBoundsIncluded() {
        assertThat(Arguments.inRange(TIMEOUT, "timeout", Duration.ofMillis(10))).isEqualTo(Duration.ofMillis(10));
        assertThat(Arguments.inRange(TIMEOUT, "timeout", Duration.ofMinutes(1))).isEqualTo(Duration.ofMinutes(1));
        assertThat(Arguments.inRange(COUNT, "count", 1)).isEqualTo(1);
        assertThat(Arguments.inRange(COUNT, "count", 100)).isEqualTo(100);
    }

    @Test
    void refusesValuesOutsideTheSettingsRangeAndNullNamingTheOption() {
        assertThatThrownBy(() -> Arguments.inRange(TIMEOUT, "connectTimeout", Duration.ofMillis(9)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("connectTimeout must be PT0.01S to PT1M, was PT0.009S");
        assertThatThrownBy(() -> Arguments.inRange(TIMEOUT, "publishTimeout", Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("publishTimeout must be PT0.01S to PT1M, was PT-1S");
        assertThatThrownBy(() -> Arguments.inRange(TIMEOUT, "commandTimeout", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("commandTimeout");
        assertThatThrownBy(() -> Arguments.inRange(COUNT, "count", 101))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("count must be 1 to 100, was 101");
    }
}
