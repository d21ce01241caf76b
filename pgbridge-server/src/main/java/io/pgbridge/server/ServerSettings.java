package io.pgbridge.server;

import io.pgbridge.PgBridgeConfig;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SettingsProvider;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The runner's own settings (the management endpoint, the progress line, the log format), checked strictly and listed
 * in {@code --help} beside the library's; documented in {@code docs/operations.md}.
 */
public final class ServerSettings implements SettingsProvider {
    /** Default port of the management endpoint. */
    public static final int DEFAULT_MANAGEMENT_PORT = 9481;

    static final Setting MANAGEMENT_ENABLED = Setting.bool(
            "management.enabled",
            "Serve /metrics (Prometheus), /health/live and /health/ready over HTTP while pgbridge run bridges",
            true);
    static final Setting MANAGEMENT_ADDRESS = Setting.string(
                    "management.address",
                    "The address the management endpoint binds to (0.0.0.0 for every interface, to be scraped "
                            + "from another host)")
            .withDefault("127.0.0.1");
    static final Setting MANAGEMENT_PORT = Setting.integer(
            "management.port",
            "The TCP port of the management endpoint (0: any free port, logged at start)",
            DEFAULT_MANAGEMENT_PORT,
            0,
            65_535);
    static final Setting PROGRESS_INTERVAL = Setting.durationMs(
            "progress.interval-ms",
            "How often pgbridge run logs a progress line (events/s, lag, in flight, retries) while events flow; "
                    + "none while idle",
            30_000,
            1_000,
            86_400_000);
    static final Setting LOG_FORMAT = Setting.string(
                    "log.format",
                    "text (one line per log event) or json (one JSON object per line, Logstash fields); "
                            + "standard error either way")
            .withDefault(LogFormat.TEXT);

    private static final List<Setting> ALL =
            List.of(MANAGEMENT_ENABLED, MANAGEMENT_ADDRESS, MANAGEMENT_PORT, PROGRESS_INTERVAL, LOG_FORMAT);

    /** For ServiceLoader. */
    public ServerSettings() {}

    @Override
    public List<Setting> settings() {
        return ALL;
    }

    /** The runner's settings of {@code config}, typed, with their defaults. */
    static Settings of(PgBridgeConfig config) {
        Map<String, String> values = new HashMap<>();
        for (Setting s : ALL) {
            if (config.isSet(s.key())) {
                values.put(s.key(), config.get(s.key()));
            }
        }
        return Settings.of(values);
    }
}
