package io.pgbridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class SourceSelectionTest {

    @Test
    void defaultSourcesFollowTheRoutedChannels() {
        assertThat(SourceSelection.defaultSources(Set.of("events")))
                .as("plain channel")
                .containsExactly("notify");
        assertThat(SourceSelection.defaultSources(Set.of("wal2json")))
                .as("the seed's WAL channel")
                .containsExactly("wal");
        assertThat(SourceSelection.defaultSources(Set.of("public.users")))
                .as("schema.table")
                .containsExactly("wal");
        assertThat(SourceSelection.defaultSources(Set.of("events", "public.users")))
                .as("both")
                .containsExactly("notify", "wal");
        assertThat(SourceSelection.defaultSources(Set.of()))
                .as("nothing routed")
                .containsExactly("notify");
    }
}
