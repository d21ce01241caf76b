package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The snapshot and backfill rows' event ids: one per row, the same each time, short whatever the key. */
class RowIdsTest {
    private final RowIds ids = new RowIds();

    @Test
    void theSameRowGetsTheSameIdAndOtherRowsOtherIds() {
        String id = ids.id("0/16B3748:r:", "public.orders", List.of("42"));
        assertThat(id).matches("0/16B3748:r:[0-9a-f]{32}");
        assertThat(new RowIds().id("0/16B3748:r:", "public.orders", List.of("42")))
                .as("the same row, another instance")
                .isEqualTo(id);
        assertThat(List.of(
                        ids.id("0/16B3748:r:", "public.orders", List.of("43")),
                        ids.id("0/16B3748:r:", "public.order", List.of("s42")),
                        ids.id("0/16B3748:r:", "public.items", List.of("42")),
                        ids.id("0/16B3748:r:", "public.orders", List.of("4", "2")),
                        ids.id("0/16B3748:r:", "public.orders", List.of("42", ""))))
                .as("other rows, tables and key splits")
                .doesNotContain(id)
                .doesNotHaveDuplicates();
    }

    @Test
    void aLongKeyGivesAShortId() {
        assertThat(ids.id("FFFFFFFF/FFFFFFFF:b:", "a".repeat(63) + "." + "b".repeat(63), List.of("x".repeat(10_000))))
                .hasSize("FFFFFFFF/FFFFFFFF:b:".length() + 32);
    }
}
