package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgbridge.internal.config.PostgresUri;
import io.pgbridge.spi.Setting;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Strictness, stated once: {@link PgBridgeConfig} accepts a {@code PGBRIDGE_*} variable exactly when it names a known
 * setting (or is a {@code PGBRIDGE_TEST_*} variable), and accepts a password in a URI exactly when it carries no
 * character that ends the userinfo part unencoded; an encoded one reaches the driver unchanged.
 */
class PgBridgeConfigPropertyTest {
    private static final Set<String> KNOWN =
            PgBridgeConfig.settings().stream().map(Setting::envName).collect(Collectors.toSet());

    @Property
    void aPgbridgeVariableIsAcceptedExactlyWhenItIsKnown(@ForAll("names") String name) {
        ConfigurationException e = catchThrowableOfType(
                ConfigurationException.class, () -> PgBridgeConfig.fromEnvironment(Map.of(name, "1")));
        boolean accepted =
                e == null || e.problems().stream().noneMatch(p -> p.startsWith(name + " is not a pgbridge setting"));

        assertThat(accepted)
                .as("%s accepted", name)
                .isEqualTo(KNOWN.contains(name) || name.startsWith("PGBRIDGE_TEST_"));
    }

    @Provide
    Arbitrary<String> names() {
        Arbitrary<String> known = Arbitraries.of(KNOWN);
        Arbitrary<String> mutated = known.flatMap(
                k -> Arbitraries.integers().between(9, k.length() - 1).flatMap(at -> Arbitraries.chars()
                        .range('A', 'Z')
                        .map(c -> k.substring(0, at) + c + k.substring(at + 1))));
        Arbitrary<String> random = Arbitraries.strings()
                .withCharRange('A', 'Z')
                .withChars('_')
                .ofMinLength(1)
                .ofMaxLength(30)
                .map(s -> "PGBRIDGE_" + s);
        return Arbitraries.oneOf(known, mutated, random, random.map(s -> s.replace("PGBRIDGE_", "PGBRIDGE_TEST_")));
    }

    @Property
    void aPasswordNeedsEncodingExactlyWhenItHoldsAUserinfoDelimiter(@ForAll("passwords") String password) {
        String raw = "postgresql://app:" + password + "@DB.EXAMPLE:5432/APP";
        String encoded =
                "postgresql://app:" + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@DB.EXAMPLE:5432/APP";
        boolean delimiter = password.chars().anyMatch(c -> "@#/?".indexOf(c) >= 0);

        ConfigurationException rawProblem = catchThrowableOfType(
                ConfigurationException.class,
                () -> PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_POSTGRESQL_URI", raw)));
        assertThat(rawProblem != null).as("'%s' rejected unencoded", password).isEqualTo(delimiter);
        if (rawProblem != null) {
            assertThat(rawProblem.getMessage()).contains("percent-encode").doesNotContain(password);
        }

        PgBridgeConfig config = PgBridgeConfig.fromEnvironment(Map.of("PGBRIDGE_POSTGRESQL_URI", encoded));
        assertThat(PostgresUri.parse(config.get("postgresql.uri")).password().reveal())
                .isEqualTo(password);
    }

    @Provide
    Arbitrary<String> passwords() {
        return Arbitraries.strings()
                .withCharRange('a', 'z')
                .withCharRange('0', '9')
                .withChars('@', '#', '/', '?', '!', '$', '-', '_', '.', '~')
                .ofMinLength(4)
                .ofMaxLength(16);
    }
}
