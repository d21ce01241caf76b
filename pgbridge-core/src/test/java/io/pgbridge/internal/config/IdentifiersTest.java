package io.pgbridge.internal.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdentifiersTest {

    @Test
    void acceptsWhatPostgresKeepsAsWritten() {
        assertThat(Identifiers.problem("channel", "events")).isNull();
        assertThat(Identifiers.problem("channel", "_app_events2$")).isNull();
        assertThat(Identifiers.problem("channel", "a".repeat(63))).isNull();
    }

    @Test
    void rejectsNamesPostgresWouldFoldTruncateOrRefuse() {
        assertThat(Identifiers.problem("channel", "Events"))
                .contains("folds to lower case")
                .contains("'events'");
        assertThat(Identifiers.problem("channel", "a".repeat(64))).contains("longer than 63 bytes");
        assertThat(Identifiers.problem("channel", "é".repeat(32))).contains("longer than 63 bytes");
        assertThat(Identifiers.problem("channel", "")).contains("must not be empty");
        for (String bad : new String[] {"a;b", "a\"b", "a\nb", "a\0b", "1abc", "a-b", "a b"}) {
            assertThat(Identifiers.problem("channel", bad)).as(bad).contains("must start with");
        }
    }

    @Test
    void quotesIdentifiers() {
        assertThat(Identifiers.quote("we\"ird")).isEqualTo("\"we\"\"ird\"");
    }
}
