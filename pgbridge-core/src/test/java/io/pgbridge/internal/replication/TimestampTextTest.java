package io.pgbridge.internal.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** The fast timestamptz rewrite gives exactly what the general {@code java.time} path gives, for any value. */
class TimestampTextTest {
    private static final DateTimeFormatter PG_DATE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    @Property(tries = 5_000)
    void agreesWithJavaTimeOnEveryValueThePostgresqlOutputCanHave(
            @ForAll @LongRange(min = -62_135_596_800L, max = 253_402_300_799L) long epochSecond,
            @ForAll("nanos") int nanos,
            @ForAll @IntRange(min = -15 * 3_600 - 59 * 60, max = 15 * 3_600 + 59 * 60) int offsetSeconds) {
        String text = postgresText(Instant.ofEpochSecond(epochSecond, nanos), offsetSeconds);

        assertThat(ValueWriter.timestampTz(text))
                .as("fast path for %s", text)
                .isEqualTo(ValueWriter.parsedTimestampTz(text));
    }

    @Example
    void declinesWhatItDoesNotKnow() {
        assertThat(TimestampText.toUtc("infinity")).isNull();
        assertThat(TimestampText.toUtc("0044-03-15 12:00:00+00 BC")).isNull();
        assertThat(TimestampText.toUtc("12026-01-01 00:00:00+00")).isNull();
        assertThat(TimestampText.toUtc("2026-02-30 00:00:00+00"))
                .as("no such day")
                .isNull();
        assertThat(TimestampText.toUtc("2026-01-01 00:00:00.+00"))
                .as("empty fraction")
                .isNull();
        assertThat(TimestampText.toUtc("2026-01-01 00:00:00.1234567891+00"))
                .as("ten digits")
                .isNull();
        assertThat(TimestampText.toUtc("0001-01-01 00:00:00+01"))
                .as("before year 1 in UTC")
                .isNull();
        assertThat(ValueWriter.timestampTz("0001-01-01 00:00:00+01"))
                .as("the general path still answers")
                .isEqualTo("0000-12-31T23:00:00Z");
    }

    @Example
    void writesTheFractionInGroupsOfThreeAsInstantDoes() {
        assertThat(TimestampText.toUtc("2026-11-22 03:04:05.5+00")).isEqualTo("2026-11-22T03:04:05.500Z");
        assertThat(TimestampText.toUtc("2026-11-22 03:04:05.1234+05:30")).isEqualTo("2026-11-21T21:34:05.123400Z");
        assertThat(TimestampText.toUtc("2026-11-22 03:04:05+00")).isEqualTo("2026-11-22T03:04:05Z");
        assertThat(TimestampText.toUtc("2026-01-01 00:10:00-00:20:30")).isEqualTo("2026-01-01T00:30:30Z");
    }

    @Provide
    Arbitrary<Integer> nanos() {
        return Arbitraries.oneOf(
                Arbitraries.just(0),
                Arbitraries.integers().between(0, 999_999).map(micros -> micros * 1_000), // what PostgreSQL stores
                Arbitraries.integers().between(0, 999_999_999));
    }

    /** As PostgreSQL writes it: fraction without trailing zeros, offset as ±HH, ±HH:MM or ±HH:MM:SS. */
    private static String postgresText(Instant instant, int offsetSeconds) {
        OffsetDateTime local = instant.atOffset(ZoneOffset.ofTotalSeconds(offsetSeconds));
        StringBuilder s = new StringBuilder(PG_DATE_TIME.format(local));
        if (local.getNano() != 0) {
            String fraction = String.format("%09d", local.getNano()).replaceAll("0+$", "");
            s.append('.').append(fraction);
        }
        int abs = Math.abs(offsetSeconds);
        s.append(offsetSeconds < 0 ? '-' : '+').append(String.format("%02d", abs / 3_600));
        if (abs % 3_600 != 0) {
            s.append(String.format(":%02d", abs / 60 % 60));
            if (abs % 60 != 0) {
                s.append(String.format(":%02d", abs % 60));
            }
        }
        return s.toString();
    }
}
