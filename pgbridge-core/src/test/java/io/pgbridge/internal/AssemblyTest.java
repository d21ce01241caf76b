package io.pgbridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class AssemblyTest {

    @Test
    void defaultSourcesFollowTheRoutedChannels() {
        assertThat(Assembly.defaultSources(Set.of("events")))
                .as("plain channel")
                .containsExactly("notify");
        assertThat(Assembly.defaultSources(Set.of("wal2json")))
                .as("the seed's WAL channel")
                .containsExactly("wal");
        assertThat(Assembly.defaultSources(Set.of("public.users")))
                .as("schema.table")
                .containsExactly("wal");
        assertThat(Assembly.defaultSources(Set.of("events", "public.users")))
                .as("both")
                .containsExactly("notify", "wal");
        assertThat(Assembly.defaultSources(Set.of())).as("nothing routed").containsExactly("notify");
    }
}
