package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.postgresql.replication.LogSequenceNumber;

/**
 * The WAL reader's own formatting of an LSN and of a commit time gives exactly what pgjdbc's
 * {@link LogSequenceNumber#asString()} and {@link Instant#toString()} give, for any LSN and any instant (event ids,
 * {@code lsn} and {@code commitTime} of the change events depend on it).
 */
class LsnTextPropertyTest {
    @Property
    void anLsnIsWrittenAsPgjdbcWritesIt(@ForAll long lsn) {
        assertThat(LsnText.of(lsn)).isEqualTo(LogSequenceNumber.valueOf(lsn).asString());
    }

    @Property
    void anInstantIsWrittenAsInstantToStringWritesIt(@ForAll("instants") Instant t) {
        assertThat(TimestampText.utc(t)).isEqualTo(t.toString());
    }

    @Provide
    Arbitrary<Instant> instants() {
        Arbitrary<Long> seconds = Arbitraries.oneOf(
                Arbitraries.longs().between(Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond()),
                Arbitraries.longs().between(-62_135_596_800L, 253_402_300_799L), // years 1 to 9999
                Arbitraries.longs().between(1_700_000_000L, 1_900_000_000L)); // commit times of today
        Arbitrary<Integer> nanos = Arbitraries.oneOf(
                Arbitraries.integers().between(0, 999_999_999),
                Arbitraries.integers().between(0, 999_999).map(micros -> micros * 1_000),
                Arbitraries.integers().between(0, 999).map(millis -> millis * 1_000_000),
                Arbitraries.just(0));
        return seconds.flatMap(s -> nanos.map(n -> Instant.ofEpochSecond(s, n)));
    }
}
