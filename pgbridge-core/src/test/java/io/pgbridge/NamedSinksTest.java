package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class NamedSinksTest {

    @Test
    void severalNamedSinksFromTheEnvironment() {
        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of(
                "PGBRIDGE_POSTGRESQL_URI", "postgresql://localhost/app",
                "PGBRIDGE_SINKS", "mem, Log",
                "PGBRIDGE_SINK_MEM_UPSTREAM", "memory",
                "PGBRIDGE_SINK_LOG_UPSTREAM", "logging",
                "PGBRIDGE_SINK_LOG_PASSWORD", "topsecret",
                "PGBRIDGE_BRIDGE_CHANNELS", "events->mem/queue:a, jobs->log/queue:b"));

        assertThat(config.get("sink.mem.upstream")).isEqualTo("memory");
        assertThat(config.toString()).as("a named sink's password").doesNotContain("topsecret");
        PgBridge bridge = config.toBuilder().build();
        assertThat(bridge.routes()).extracting(r -> r.target().sink()).containsExactly("mem", "log");
    }

    @Test
    void aRouteToAnUnlistedSinkAndASinkWithoutUriAreReportedTogether() {
        PgBridge.Builder builder = PgBridge.builder()
                .postgres("postgresql://localhost/app")
                .setting("sinks", "mem,hooks")
                .setting("sink.mem.upstream", "memory")
                .routes("events->mem/queue:a, jobs->other/queue:b");

        assertThatThrownBy(builder::build).isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(
                        e.problems())
                .anySatisfy(p -> assertThat(p).startsWith("PGBRIDGE_SINK_HOOKS_URI is missing"))
                .anySatisfy(p -> assertThat(p).contains("names sink 'other'").contains("[mem]")));
    }
}
