package io.pgbridge.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ArgumentsTest {

    @Test
    void positiveTakesADurationLongerThanZero() {
        assertThat(Arguments.positive("connectTimeout", Duration.ofNanos(1))).isEqualTo(Duration.ofNanos(1));
    }

    @Test
    void positiveRefusesZeroNegativeAndNullNamingTheOption() {
        assertThatThrownBy(() -> Arguments.positive("connectTimeout", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("connectTimeout must be positive, was PT0S");
        assertThatThrownBy(() -> Arguments.positive("publishTimeout", Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("publishTimeout must be positive, was PT-1S");
        assertThatThrownBy(() -> Arguments.positive("commandTimeout", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("commandTimeout");
    }
}
