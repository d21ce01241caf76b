package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.pgbridge.BackfillProgress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * The progress of the initial snapshot and of a backfill (the stats entry, the meters, the 10-second log line): percent
 * of the counted rows, rate of this bridge's own rows, the table a read of several tables reads, the line's interval.
 */
class ReadProgressTest {
    private static final List<String> TABLES = List.of("public.a", "public.b", "public.c");

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    private ReadProgress snapshot(InitialSnapshot.Progress from, long total) {
        return new ReadProgress("Initial snapshot for slot s", "s", TABLES, null, from, total, nanos::get);
    }

    private void pass(long seconds) {
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Property(tries = 500)
    void percentStaysWithinZeroAndHundredAndIsHundredOnceDone(
            @ForAll @LongRange(max = 10_000_000) long rows,
            @ForAll @LongRange(max = 10_000_000) long total,
            @ForAll @IntRange(max = 3) int table) {
        ReadProgress p = snapshot(InitialSnapshot.Progress.START, total);
        p.handed(new InitialSnapshot.Progress(1, table, null, rows));
        double percent = p.progress().percent();
        assertThat(percent).as("percent of %s rows of %s", rows, total).isBetween(0.0, 100.0);
        if (total > 0 && rows <= total) {
            assertThat(percent).isCloseTo(100.0 * rows / total, within(1e-9));
        }
        p.state(BackfillProgress.State.DONE, null);
        assertThat(p.progress().percent()).as("done").isEqualTo(100.0);
    }

    @Test
    void aResumedReadCountsAllRowsButRatesOnlyItsOwn() {
        ReadProgress p = snapshot(new InitialSnapshot.Progress(10, 1, List.of("7"), 20_000), 50_000);
        pass(4);
        p.handed(new InitialSnapshot.Progress(15, 1, List.of("9"), 30_240));
        BackfillProgress now = p.progress();
        assertThat(now.rows()).as("rows, across restarts").isEqualTo(30_240);
        assertThat(now.chunks()).isEqualTo(15);
        assertThat(now.totalRows()).isEqualTo(50_000);
        assertThat(now.percent()).isCloseTo(60.48, within(1e-9));
        assertThat(now.rowsPerSecond()).as("this bridge's 10,240 rows in 4 s").isCloseTo(2_560, within(1e-9));
        assertThat(now.table()).as("the table it reads").isEqualTo("public.b");
        assertThat(now.id()).isEqualTo("s");
        assertThat(now.filter()).isNull();
        assertThat(now.state()).isEqualTo(BackfillProgress.State.RUNNING);
    }

    @Test
    void untilCountedTheTotalIsZeroAndSoIsThePercent() {
        ReadProgress p = snapshot(InitialSnapshot.Progress.START, 0);
        p.handed(new InitialSnapshot.Progress(1, 0, List.of("1"), 2_048));
        assertThat(p.progress().percent()).isZero();
        p.total(4_096);
        assertThat(p.progress().percent()).isEqualTo(50.0);
    }

    @Test
    void aReadPastItsCountStaysAtHundredPercentAndShowsItsLastTableOnceAllAreRead() {
        ReadProgress p = snapshot(InitialSnapshot.Progress.START, 100);
        p.handed(new InitialSnapshot.Progress(3, TABLES.size(), null, 130));
        assertThat(p.progress().percent()).as("rows inserted meanwhile").isEqualTo(100.0);
        assertThat(p.progress().table()).as("every table read").isEqualTo("public.c");
    }

    @Test
    void aRetriedFailureShowsAsReasonWhileRunningAndIsClearedByTheNextChunk() {
        ReadProgress p = snapshot(InitialSnapshot.Progress.START, 100);
        p.state(BackfillProgress.State.RUNNING, "connection lost");
        assertThat(p.progress().reason()).isEqualTo("connection lost");
        p.state(BackfillProgress.State.RUNNING, null);
        assertThat(p.progress().reason()).isNull();
        p.state(BackfillProgress.State.FAILED, "table dropped");
        assertThat(p.progress().state()).isEqualTo(BackfillProgress.State.FAILED);
        assertThat(p.progress().reason()).isEqualTo("table dropped");
    }

    @Test
    void theLineComesEveryTenSecondsWithTheRateOfItsInterval() {
        ReadProgress p = snapshot(InitialSnapshot.Progress.START, 100_000);
        pass(9);
        p.handed(new InitialSnapshot.Progress(5, 0, List.of("10240"), 10_240));
        assertThat(p.lineIfDue(2)).as("9 s after the start").isNull();
        pass(1);
        assertThat(p.lineIfDue(2))
                .isEqualTo("Initial snapshot for slot s: 10240 of 100000 rows (10.2%) in 5 chunks, 1024 rows/s (1024"
                        + " rows/s in the last 10 s), 2 chunk(s) awaiting the sinks' confirmation; reading public.a");
        pass(5);
        assertThat(p.lineIfDue(0)).as("5 s after the last line").isNull();
        p.handed(new InitialSnapshot.Progress(25, 1, List.of("3"), 51_200));
        pass(15);
        assertThat(p.lineIfDue(0))
                .isEqualTo("Initial snapshot for slot s: 51200 of 100000 rows (51.2%) in 25 chunks, 1707 rows/s (2048"
                        + " rows/s in the last 20 s), 0 chunk(s) awaiting the sinks' confirmation; reading public.b");
    }

    @Test
    void aBackfillsLineNamesNoTableAndItsDoneLineGivesTheTotals() {
        ReadProgress p = new ReadProgress(
                "Backfill s/backfill/public.t",
                "s/backfill/public.t",
                List.of("public.t"),
                "id > 5",
                InitialSnapshot.Progress.START,
                4_000,
                nanos::get);
        pass(10);
        p.handed(new InitialSnapshot.Progress(2, 1, null, 4_000));
        assertThat(p.lineIfDue(1))
                .isEqualTo("Backfill s/backfill/public.t: 4000 of 4000 rows (100.0%) in 2 chunks, 400 rows/s (400"
                        + " rows/s in the last 10 s), 1 chunk(s) awaiting the sinks' confirmation");
        p.state(BackfillProgress.State.DONE, null);
        assertThat(p.doneLine())
                .isEqualTo("Backfill s/backfill/public.t complete: 4000 rows in 2 chunks, 400 rows/s over 10.0 s, all"
                        + " confirmed");
        assertThat(p.progress().table()).isEqualTo("public.t");
        assertThat(p.progress().filter()).isEqualTo("id > 5");
    }
}
