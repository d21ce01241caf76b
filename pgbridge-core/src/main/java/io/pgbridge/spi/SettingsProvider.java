package io.pgbridge.spi;

import java.util.List;

/**
 * Declares the settings of a component that is neither a source nor a sink but reads pgbridge settings, such as the
 * standalone runner (its management endpoint, its log format). Registered in
 * {@code META-INF/services/io.pgbridge.spi.SettingsProvider}; must have a public no-argument constructor. Its settings
 * are checked strictly and listed like every other ({@link io.pgbridge.PgBridgeConfig#settings()}); the core itself
 * never reads them.
 */
public interface SettingsProvider {

    /** The settings this component reads; keys must not collide with the core's, a source's or a sink's. */
    List<Setting> settings();
}
