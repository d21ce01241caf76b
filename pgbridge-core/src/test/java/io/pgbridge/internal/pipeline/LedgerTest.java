package io.pgbridge.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ledger's rules for what a source may do, and the case that once lost a committed change. */
class LedgerTest {
    private final List<Long> acks = new ArrayList<>();
    private final Ledger ledger = new Ledger(acks::add, 4);

    @Test
    void aTransactionWhoseFirstEventsAreConfirmedIsNotAcknowledgedBeforeItIsSealed() {
        long row1 = ledger.register(500, 1);
        long row2 = ledger.register(500, 1);
        ledger.settle(new long[] {row1, row2}, 2, new boolean[2]);
        assertThat(acks)
                .as("rows 1 and 2 confirmed, the transaction still being handed over")
                .isEmpty();

        long row3 = ledger.register(500, 1);
        ledger.seal(559);
        assertThat(acks)
                .as("sealed, but row 3 is not confirmed (the broker nacked it)")
                .isEmpty();

        ledger.settle(new long[] {row3}, 1, new boolean[1]);
        assertThat(acks).as("row 3 confirmed").containsExactly(559L);
    }

    @Test
    void settledEventsBehindAnUnsettledOneKeepTheirPlaceUntilItSettles() {
        long stuck = ledger.register(10, 1);
        long a = ledger.register(20, 1);
        long b = ledger.register(30, 1);
        ledger.seal(30);
        assertThat(ledger.settle(new long[] {a, b}, 2, new boolean[2]))
                .as("no room back while the oldest is unsettled")
                .isZero();
        assertThat(ledger.held()).isEqualTo(3);
        assertThat(ledger.settle(new long[] {stuck}, 1, new boolean[1]))
                .as("all three passed at once")
                .isEqualTo(3);
        assertThat(acks).containsExactly(30L);
    }

    @Test
    void storedDurablyLetsAcknowledgementPassEventsStillInTheirLanes() {
        ledger.register(10, 1);
        ledger.seal(15);
        ledger.storedDurably(10);
        assertThat(acks).containsExactly(15L);
        assertThat(ledger.held())
                .as("the event keeps its room until it settles")
                .isEqualTo(1);
    }

    @Test
    void refusesWhatASourceMustNotDo() {
        ledger.register(10, 1);
        ledger.seal(20);
        assertThatThrownBy(() -> ledger.register(20, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sealed");
        assertThatThrownBy(() -> ledger.seal(19))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not decrease");
        ledger.register(30, 1);
        assertThatThrownBy(() -> ledger.register(25, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not decrease");
    }

    @Test
    void refusesASettlementItDidNotExpect() {
        long seq = ledger.register(10, 1);
        ledger.settle(new long[] {seq}, 1, new boolean[1]);
        assertThatThrownBy(() -> ledger.settle(new long[] {seq}, 1, new boolean[1]))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("settled more often");
    }

    @Test
    void refusesMoreEventsThanItsCapacity() {
        for (int i = 0; i < 4; i++) {
            ledger.register(i, 1);
        }
        assertThatThrownBy(() -> ledger.register(9, 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("event bound");
    }
}
