package io.pgbridge.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.internal.Providers;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.SettingsProvider;
import io.pgbridge.spi.SinkProvider;
import io.pgbridge.spi.SourceProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The README and docs stay true to the code: every setting is documented, and CI runs the README's test command. */
class DocumentationTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void everySettingOfEveryProviderIsDocumented() throws IOException {
        String docs = Files.readString(ROOT.resolve("README.md"));
        try (Stream<Path> pages = Files.list(ROOT.resolve("docs"))) {
            for (Path page : pages.collect(Collectors.toList())) {
                docs += Files.readString(page);
            }
        }
        List<Setting> settings = new ArrayList<>(CoreSettings.ALL);
        Providers.load(SourceProvider.class).forEach(p -> settings.addAll(p.settings()));
        Providers.load(SinkProvider.class).forEach(p -> settings.addAll(p.settings()));
        Providers.load(SettingsProvider.class).forEach(p -> settings.addAll(p.settings()));
        assertThat(settings).as("the runner's own settings are found").contains(ServerSettings.LOG_FORMAT);

        assertThat(Providers.load(SinkProvider.class).stream()
                        .map(p -> p.getClass().getName())
                        .toList())
                .as("every sink module is on the runner's class path")
                .containsExactlyInAnyOrderElementsOf(declaredSinkProviders());
        for (Setting setting : settings) {
            assertThat(docs)
                    .as("README.md or docs/ documents " + setting.envName())
                    .contains(setting.envName());
        }
    }

    /** The sink providers the modules of this repository declare for ServiceLoader. */
    private static List<String> declaredSinkProviders() throws IOException {
        List<String> providers = new ArrayList<>();
        try (Stream<Path> modules = Files.list(ROOT)) {
            for (Path module : modules.collect(Collectors.toList())) {
                Path services = module.resolve("src/main/resources/META-INF/services/" + SinkProvider.class.getName());
                if (Files.exists(services)) {
                    Files.readAllLines(services).stream()
                            .map(String::strip)
                            .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                            .forEach(providers::add);
                }
            }
        }
        return providers;
    }

    @Test
    void quickStartHoldsTheTwoCommandsAndCiRunsTheSecond() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher block = Pattern.compile("## Quick start\\s+```\\n(.*?)```", Pattern.DOTALL)
                .matcher(readme);
        assertThat(block.find()).as("a code block right after '## Quick start'").isTrue();
        List<String> commands = List.of(block.group(1).strip().split("\n"));

        assertThat(commands).hasSize(2);
        assertThat(commands.get(0))
                .as("the first command builds the distribution and runs it")
                .contains("pgbridge-server/target/pgbridge-*.tar.gz")
                .endsWith("/bin/pgbridge");
        assertThat(Files.readAllLines(ROOT.resolve(".ci/run")))
                .as(".ci/run runs the README's test command")
                .contains(commands.get(1));
    }
}
