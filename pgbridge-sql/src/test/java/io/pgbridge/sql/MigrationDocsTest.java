package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Liquibase example in docs/outbox.md lists every migration script the module ships. */
class MigrationDocsTest {
    private static final Path DOC = Path.of("..", "docs", "outbox.md");
    private static final Path SCRIPTS = Path.of("src", "main", "resources", PgBridgeSchema.LOCATION);

    @Test
    void liquibaseExampleListsEveryMigrationScript() throws IOException {
        String doc = Files.readString(DOC);
        List<String> scripts;
        try (Stream<Path> files = Files.list(SCRIPTS)) {
            scripts = files.map(p -> p.getFileName().toString())
                    .filter(name -> name.matches("V[0-9]+__.+\\.sql"))
                    .sorted()
                    .toList();
        }
        assertThat(scripts).as("migration scripts in %s", SCRIPTS).isNotEmpty();
        List<String> missing = scripts.stream()
                .filter(name -> !doc.contains("sqlFile: {path: " + PgBridgeSchema.LOCATION + "/" + name + ","))
                .toList();
        assertThat(missing)
                .as("scripts missing from the Liquibase example in %s (add a changeSet with sqlFile for each)", DOC)
                .isEmpty();
    }
}
