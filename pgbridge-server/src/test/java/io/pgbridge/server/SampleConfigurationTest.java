package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.PgBridge;
import io.pgbridge.PgBridgeConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The distribution's sample configuration is valid as shipped: every key known, every value of its type. */
class SampleConfigurationTest {

    @Test
    void theSampleBuildsABridge() {
        PgBridgeConfig sample = PgBridgeConfig.fromProperties(Path.of("src/dist/config/pgbridge.properties.sample"));

        try (PgBridge bridge = sample.toBuilder().build()) {
            assertThat(bridge.routes()).hasSize(2);
        }
    }
}
