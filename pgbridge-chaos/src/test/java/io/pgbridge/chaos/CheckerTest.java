package io.pgbridge.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.chaos.Checker.Report;
import io.pgbridge.chaos.Nemesis.Fault;
import io.pgbridge.chaos.Nemesis.Injected;
import io.pgbridge.chaos.Producer.Commit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker finds what it is there to find: it is what fails a chaos run. */
class CheckerTest {
    private static final List<Commit> ROWS_1_TO_6 = List.of(new Commit(0, 1, 3, 1_000), new Commit(0, 4, 6, 2_000));

    private static Report check(long... ids) {
        return check(List.of(), ids);
    }

    private static Report check(List<Injected> faults, long... ids) {
        Deliveries deliveries = new Deliveries(1);
        for (long id : ids) {
            deliveries.record(0, id, "e" + id, false);
        }
        return Checker.check(ROWS_1_TO_6, 0, deliveries, faults, Long.MAX_VALUE);
    }

    @Test
    void everyRowOnceInOrderIsClean() {
        Report r = check(1, 2, 3, 4, 5, 6);
        assertThat(r.lost()).isZero();
        assertThat(r.duplicates()).isZero();
        assertThat(r.orderViolations()).isZero();
        assertThat(r.committedRows()).isEqualTo(6);
    }

    @Test
    void aMissingRowIsLost() {
        Report r = check(1, 2, 4, 5, 6);
        assertThat(r.lost()).isEqualTo(1);
        assertThat(r.lostSample()).containsExactly(3L);
    }

    @Test
    void aRowArrivingAfterLaterOnesIsAViolation() {
        assertThat(check(1, 2, 4, 3, 5, 6).orderViolations()).isEqualTo(1);
    }

    /** docs/sinks.md: a nacked event is retried in order from the first unconfirmed one; later ones arrive twice. */
    @Test
    void aRetryFromTheFirstUnconfirmedRowIsNotAViolation() {
        Report r = check(1, 2, 4, 5, 3, 4, 5, 6);
        assertThat(r.orderViolations()).isZero();
        assertThat(r.retriedOutOfOrder()).isEqualTo(1);
        assertThat(r.duplicates()).isEqualTo(2);
    }

    @Test
    void aRetryThatDoesNotResendTheLaterRowsIsAViolation() {
        assertThat(check(1, 2, 4, 5, 3, 5, 6).orderViolations()).isEqualTo(1);
    }

    @Test
    void aRowNeverCommittedIsAPhantom() {
        assertThat(check(1, 2, 3, 4, 5, 6, 7).phantoms()).isEqualTo(1);
    }

    @Test
    void duplicatesAreAttributedToAFaultOnlyWhenOneOverlapsTheirFlight() {
        Deliveries deliveries = new Deliveries(1);
        for (long id : new long[] {1, 2, 3, 4, 5, 6, 4}) {
            deliveries.record(0, id, "e" + id, false);
        }
        long now = System.currentTimeMillis();
        assertThat(Checker.check(ROWS_1_TO_6, 0, deliveries, List.of(), Long.MAX_VALUE)
                        .duplicatesAtFault())
                .isZero();
        assertThat(Checker.check(
                                ROWS_1_TO_6,
                                0,
                                deliveries,
                                List.of(new Injected(Fault.BRIDGE_SIGKILL, 0, 1_500, 1_600)),
                                Long.MAX_VALUE)
                        .duplicatesAtFault())
                .as("a fault that ended before row 4 committed")
                .isZero();
        assertThat(Checker.check(
                                ROWS_1_TO_6,
                                0,
                                deliveries,
                                List.of(new Injected(Fault.BRIDGE_SIGKILL, 0, 2_500, now)),
                                Long.MAX_VALUE)
                        .duplicatesAtFault())
                .isEqualTo(1);
    }

    @Test
    void anEventIdThatChangesOnRedeliveryIsCounted() {
        Deliveries deliveries = new Deliveries(1);
        for (long id = 1; id <= 6; id++) {
            deliveries.record(0, id, "e" + id, false);
        }
        deliveries.record(0, 2, "other", true);
        Report r = Checker.check(ROWS_1_TO_6, 0, deliveries, List.of(), Long.MAX_VALUE);
        assertThat(r.eventIdChanged()).isEqualTo(1);
        assertThat(r.consumerRedeliveries()).isEqualTo(1);
    }

    @Test
    void theLongestRunOfLostRowsAndTheLossAfterTheFaultsAreMeasured() {
        Deliveries deliveries = new Deliveries(1);
        deliveries.record(0, 1, "e1", false);
        deliveries.record(0, 5, "e5", false);
        Report r = Checker.check(ROWS_1_TO_6, 0, deliveries, List.of(), 2_000);
        assertThat(r.longestGap()).isEqualTo(3);
        assertThat(r.longestGapMillis()).isEqualTo(1_000);
        assertThat(r.lostAfterFaults()).as("rows 4 and 6, committed at 2 s").isEqualTo(2);
        assertThat(r.committedAfterFaults()).isEqualTo(3);
    }
}
