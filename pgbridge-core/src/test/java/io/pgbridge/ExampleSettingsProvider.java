package io.pgbridge;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.SettingsProvider;
import java.util.List;

/** A component's settings declared through the SPI, as the runner declares its own (registered for the tests). */
public final class ExampleSettingsProvider implements SettingsProvider {
    static final Setting INTERVAL =
            Setting.durationMs("example.interval-ms", "How often the example component works", 1_000, 1, 60_000);

    @Override
    public List<Setting> settings() {
        return List.of(INTERVAL);
    }
}
