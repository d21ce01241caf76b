package io.pgbridge.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkArgsTest {
    private static BenchmarkArgs parse(String... args) {
        return BenchmarkArgs.parse(
                args,
                List.of("jvm"),
                "events=100000",
                "only=bare,sink",
                "redis=redis://127.0.0.1:6379",
                "batches=500,1");
    }

    @Test
    void withoutArgumentsEveryKeyHasItsDefault() {
        BenchmarkArgs a = parse();

        assertThat(a.integer("events")).as("events").isEqualTo(100_000);
        assertThat(a.list("only")).as("only").containsExactly("bare", "sink");
        assertThat(a.string("redis")).as("redis").isEqualTo("redis://127.0.0.1:6379");
        assertThat(a.integers("batches")).as("batches").containsExactly(500, 1);
        assertThat(a.words("jvm")).as("jvm").isEmpty();
        assertThat(a.values())
                .as("values, in declared order")
                .containsExactly(
                        Map.entry("events", "100000"),
                        Map.entry("only", "bare,sink"),
                        Map.entry("redis", "redis://127.0.0.1:6379"),
                        Map.entry("batches", "500,1"));
    }

    @Test
    void anArgumentReplacesTheDefaultAndTheLastOfTwoWins() {
        BenchmarkArgs a = parse("events=50000", "only=bridge", "events=2000", "redis=redis://127.0.0.1:6382");

        assertThat(a.integer("events")).as("events").isEqualTo(2_000);
        assertThat(a.list("only")).as("only").containsExactly("bridge");
        assertThat(a.string("redis")).as("redis").isEqualTo("redis://127.0.0.1:6382");
    }

    @Test
    void aValueSplitsAtTheFirstEqualsSignAndMayBeEmpty() {
        BenchmarkArgs a = parse("redis=", "jvm=-XX:StartFlightRecording=filename=wal.jfr,settings=fine.jfc");

        assertThat(a.string("redis")).as("redis").isEmpty();
        assertThat(a.words("jvm"))
                .as("jvm")
                .containsExactly("-XX:StartFlightRecording=filename=wal.jfr,settings=fine.jfc");
    }

    @Test
    void aRepeatableKeyKeepsEveryValueSplitAtSpaces() {
        BenchmarkArgs a = parse("jvm=-Xmx256m", "events=10", "jvm=-XX:+UseG1GC -XX:MaxGCPauseMillis=20");

        assertThat(a.words("jvm")).as("jvm").containsExactly("-Xmx256m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20");
        assertThat(a.values()).as("values").doesNotContainKey("jvm");
    }

    @Test
    void aListOfChoicesKeepsItsOrderAndRejectsAPartThatIsNotAChoice() {
        List<String> loops = List.of("bare", "sink", "bridge");

        assertThat(parse("only=bridge,bare").list("only", loops)).as("only").containsExactly("bridge", "bare");
        assertThatThrownBy(() -> parse("only=bare,Bridge,sinks").list("only", loops))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("argument only: [Bridge, sinks] not among bare,sink,bridge");
    }

    @Test
    void anUnknownKeyIsRejectedWithTheKnownKeys() {
        assertThatThrownBy(() -> parse("evnets=10"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("argument \"evnets=10\" has an unknown key; known keys: events, only, redis, batches,"
                        + " jvm (repeatable)");
    }

    @Test
    void anArgumentWithoutEqualsSignIsRejectedWithTheKnownKeys() {
        assertThatThrownBy(() -> parse("events"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("argument \"events\" is not key=value; known keys: events, only, redis, batches,"
                        + " jvm (repeatable)");
    }

    @Test
    void aNumberThatDoesNotParseIsNamedWithItsKey() {
        assertThatThrownBy(() -> parse("events=10k").integer("events"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("argument events: \"10k\" is not a whole number (int)");
        assertThatThrownBy(() -> parse("batches=500,x").integers("batches"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("argument batches: \"x\" is not a whole number (int)");
        assertThatThrownBy(() -> parse("events=3000000000").integer("events"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("argument events: \"3000000000\" is not a whole number (int)");
    }

    @Test
    void aKeyTheProgramDidNotDeclareIsAProgrammingError() {
        assertThatThrownBy(() -> parse().string("rows")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> parse().words("events")).isInstanceOf(IllegalStateException.class);
    }
}
