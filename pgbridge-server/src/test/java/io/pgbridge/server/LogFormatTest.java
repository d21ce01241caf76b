package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code PGBRIDGE_LOG_FORMAT=json}: every line on standard error is one JSON object (Jackson parses them line by line),
 * stack traces included; text stays the default; a wrong value is a configuration error.
 */
class LogFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** An unreachable database: several lines, exit code 3, and a stack trace at debug. */
    private static final Map<String, String> UNREACHABLE = Map.of(
            "PGBRIDGE_POSTGRESQL_URI", "postgresql://postgres:secret@127.0.0.1:1/postgres",
            "PGBRIDGE_UPSTREAM_URI", "memory:",
            "PGBRIDGE_BRIDGE_CHANNELS", "events->queue:e",
            "PGBRIDGE_MANAGEMENT_ENABLED", "false");

    @TempDir
    Path dir;

    @AfterEach
    void backToInfo() {
        Runner.run(Map.of(), "--log-level=info", "--version");
    }

    @Test
    void jsonWritesOneJsonObjectPerLineOnStandardError() throws IOException {
        Map<String, String> env = new java.util.HashMap<>(UNREACHABLE);
        env.put("PGBRIDGE_LOG_FORMAT", "json");

        Runner.Result result = Runner.run(env, "--log-level=debug");

        assertThat(result.exit()).as("%s", result).isEqualTo(3);
        assertThat(result.stdout()).isEmpty();
        List<JsonNode> lines = parse(result.stderrLines());
        assertThat(lines).hasSizeGreaterThanOrEqualTo(2);
        assertThat(lines).allSatisfy(line -> {
            assertThat(line.path("@timestamp").asText()).isNotEmpty();
            assertThat(line.path("level").asText()).isIn("ERROR", "WARN", "INFO", "DEBUG");
            assertThat(line.path("logger_name").asText()).isNotEmpty();
            assertThat(line.path("message").isTextual()).isTrue();
        });
        assertThat(lines)
                .filteredOn(line -> line.get("level").asText().equals("ERROR"))
                .first()
                .satisfies(error -> assertThat(error.get("message").asText())
                        .startsWith("Cannot LISTEN on jdbc:postgresql://127.0.0.1:1/postgres as postgres"));
        assertThat(lines).as("the stack trace is a field of its line").anySatisfy(line -> assertThat(
                        line.path("stack_trace").asText())
                .contains("\n\tat "));
        assertThat(result.stderr()).doesNotContain("secret");
    }

    @Test
    void textIsTheDefaultAndJsonCanComeFromThePropertiesFile() throws IOException {
        Runner.Result text = Runner.run(UNREACHABLE);
        assertThat(text.firstStderrLine())
                .as("text: time, level, thread, logger, message")
                .matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ERROR \\[.+\\] pgbridge - Cannot LISTEN on .*");

        Path file = Files.writeString(dir.resolve("pgbridge.properties"), "log.format = json\n");
        Runner.Result json = Runner.run(UNREACHABLE, "--config", file.toString());
        assertThat(json.exit()).isEqualTo(3);
        assertThat(parse(json.stderrLines())).isNotEmpty();
    }

    @Test
    void anUnknownFormatIsAConfigurationError() {
        Runner.Result result = Runner.run(Map.of("PGBRIDGE_LOG_FORMAT", "xml"));

        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.firstStderrLine())
                .endsWith("PGBRIDGE_LOG_FORMAT='xml': is not a log format; use text (the default) or json");
    }

    private static List<JsonNode> parse(List<String> lines) throws IOException {
        List<JsonNode> parsed = new ArrayList<>();
        for (String line : lines) {
            JsonNode node = JSON.readTree(line);
            assertThat(node.isObject()).as("one JSON object per line: %s", line).isTrue();
            parsed.add(node);
        }
        return parsed;
    }
}
