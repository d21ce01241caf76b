package io.pgbridge.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class ServerListTest {

    private static ServerList parse(String uri, Problems problems) {
        SinkConfig sink = SinkConfig.of(uri, Settings.of(Map.of()), Executors.defaultThreadFactory());
        return ServerList.parse(sink, Set.of("x", "xs"), 7000, "x://host:7000[,host2:7000]", List.of(), problems);
    }

    @Test
    void takesAListOfServersWithCredentialsApart() {
        Problems problems = new Problems();
        ServerList list = parse("xs://us%40er:p%3Ass@a.example:7001,b.example", problems);

        assertThat(problems.list()).isEmpty();
        assertThat(list.scheme()).isEqualTo("xs");
        assertThat(list.hostPorts()).containsExactly("a.example:7001", "b.example:7000");
        assertThat(list.user()).isEqualTo("us@er");
        assertThat(list.password().reveal()).isEqualTo("p:ss");
        assertThat(list.toString()).doesNotContain("p:ss", "p%3Ass").contains("****");
    }

    @Test
    void reportsEveryProblemWithTheValueRedacted() {
        Problems problems = new Problems();
        ServerList list = parse("y://user:secret@a.example:7001,b.example:port", problems);

        assertThat(list).isNotNull();
        assertThat(String.join("\n", problems.list()))
                .contains("must start with x:// or xs://", "not host[:port]: 'b.example:port'")
                .doesNotContain("secret");
        assertThat(parse("x://", new Problems())).as("no server").isNull();
    }
}
