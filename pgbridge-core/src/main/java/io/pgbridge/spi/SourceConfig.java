package io.pgbridge.spi;

import java.util.Set;

/** What a {@link SourceProvider} gets to create a source. */
public interface SourceConfig {

    /** Opens connections to the configured PostgreSQL. */
    PostgresConnector postgres();

    /** Every setting; the provider reads the ones it declared in {@link SourceProvider#settings()}. */
    Settings settings();

    /** The channels of every route, in configuration order. */
    Set<String> channels();
}
