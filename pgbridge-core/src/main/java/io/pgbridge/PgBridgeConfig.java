package io.pgbridge;

import io.pgbridge.internal.NamedSinks;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.KnownSettings;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SettingsProvider;
import io.pgbridge.spi.support.Redaction;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * pgbridge's settings read from environment variables or a properties file, for running the bridge without code:
 *
 * <pre>{@code
 * PgBridge bridge = PgBridgeConfig.fromEnvironment().toBuilder().build();
 * }</pre>
 *
 * <p>Every setting has a canonical key ({@code upstream.uri}), an environment variable ({@code PGBRIDGE_UPSTREAM_URI})
 * and, where the seed had one, its old name ({@code PGPROXY_LOCAL-UPSTREAM_CONFIG-URI}). A properties file may use any
 * of the three. The settings known are the core's plus those of every source, sink and settings provider on the class
 * path. The main ones:
 *
 * <table>
 *   <caption>Main settings</caption>
 *   <tr><th>environment</th><th>meaning</th></tr>
 *   <tr><td>{@code PGBRIDGE_POSTGRESQL_URI}</td><td>{@code postgresql://user:pass@host:port/db} or
 *       {@code jdbc:postgresql:...}</td></tr>
 *   <tr><td>{@code PGBRIDGE_UPSTREAM_URI}</td><td>the broker; its scheme selects the sink</td></tr>
 *   <tr><td>{@code PGBRIDGE_BRIDGE_CHANNELS}</td><td>routes, {@code channel->kind:name, ...}</td></tr>
 *   <tr><td>{@code PGBRIDGE_AMQP_DELIVERY_MODE}</td><td>AMQP delivery mode, 1 or 2 (default 2)</td></tr>
 * </table>
 *
 * <p>Strict: a {@code PGBRIDGE_*} variable or a key that is not a known setting is an error naming the closest known
 * one; every value is checked against its setting's type, also for components not in use; a URI whose user or
 * password needs percent-encoding is an error saying so. All problems are reported at once, in one
 * {@link ConfigurationException}.
 *
 * <p>Immutable. {@link #toString()} redacts secrets.
 */
public final class PgBridgeConfig {
    private static final String PREFIX = "PGBRIDGE_";
    private static final String TEST_PREFIX = "PGBRIDGE_TEST_";
    private static final Pattern HOST_AND_REST =
            Pattern.compile("[A-Za-z0-9._\\-\\[\\]:,%]+([/?#].*)?", Pattern.DOTALL);

    private final Map<String, String> values;
    private final Map<String, Setting> known;

    private PgBridgeConfig(Map<String, String> values, Map<String, Setting> known) {
        this.values = Collections.unmodifiableMap(values);
        this.known = known;
    }

    /** Reads {@link System#getenv()}. */
    public static PgBridgeConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Reads settings from environment-style variables: {@code PGBRIDGE_*} names and the seed's names. Variables of
     * other programs are ignored, and so are {@code PGBRIDGE_TEST_*} (the test suite's own). A former name
     * ({@code PGBRIDGE_REPLICATION_SLOT}) is accepted with a warning logged once, the current name winning when both are
     * set; each sink named in {@code PGBRIDGE_SINKS} takes its {@code PGBRIDGE_SINK_<NAME>_*} variables.
     *
     * @throws ConfigurationException naming every problem at once: a {@code PGBRIDGE_*} variable that is not a known
     *     setting (with the closest known name), a value that does not fit its setting's type, even of a component
     *     not in use, and a URI whose user or password needs percent-encoding
     */
    public static PgBridgeConfig fromEnvironment(Map<String, String> env) {
        Map<String, Setting> known = knownSettings();
        Map<String, String> values = new LinkedHashMap<>();
        for (Setting s : known.values()) {
            String v = env.get(s.envName());
            for (int i = 0; v == null && i < s.aliases().size(); i++) {
                v = env.get(s.aliases().get(i));
            }
            if (v != null) {
                values.put(s.key(), v);
            }
        }
        Problems problems = new Problems();
        Map<String, String> named = namedSinkKeys(known, values);
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith(PREFIX) || name.startsWith(TEST_PREFIX)) {
                continue;
            }
            if (named.containsKey(name)) {
                values.put(named.get(name), env.get(name));
                continue;
            }
            Setting s = KnownSettings.resolve(known, name);
            if (s == null) {
                problems.add(name + " is not a pgbridge setting" + suggestion(known, name, true)
                        + " (README.md lists every setting)");
            } else if (!values.containsKey(s.key())) {
                values.put(s.key(), env.get(name)); // a deprecated name; the current one wins when both are set
            }
        }
        return checked(values, known, problems);
    }

    /**
     * Reads a properties file (UTF-8). Keys may be canonical ({@code upstream.uri}), environment names or the seed's
     * names.
     *
     * @throws ConfigurationException when the file cannot be read, or naming every problem as
     *     {@link #fromProperties(Properties)} does
     */
    public static PgBridgeConfig fromProperties(Path file) {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigurationException("cannot read properties file " + file + ": " + e.getMessage());
        }
        return fromProperties(props);
    }

    /**
     * Reads settings from properties; keys may be canonical, environment names or the seed's names.
     *
     * @throws ConfigurationException naming every problem at once: an unknown key (with the closest known one), a
     *     value that does not fit its setting's type, even of a component not in use, and a URI whose user or password
     *     needs percent-encoding
     */
    public static PgBridgeConfig fromProperties(Properties props) {
        Map<String, Setting> known = knownSettings();
        Map<String, String> values = new LinkedHashMap<>();
        Problems problems = new Problems();
        Map<String, String> listed = new LinkedHashMap<>();
        for (String name : List.of(CoreSettings.SINKS.key(), CoreSettings.SINKS.envName())) {
            if (props.getProperty(name) != null) {
                listed.put(CoreSettings.SINKS.key(), props.getProperty(name));
            }
        }
        Map<String, String> named = namedSinkKeys(known, listed);
        for (String name : new TreeSet<>(props.stringPropertyNames())) {
            if (named.containsKey(name)) {
                values.put(named.get(name), props.getProperty(name).trim());
                continue;
            }
            Setting s = KnownSettings.resolve(known, name);
            if (s == null) {
                problems.add("unknown key '" + name + "'" + suggestion(known, name, name.startsWith(PREFIX))
                        + " (README.md lists every setting)");
            } else {
                values.put(s.key(), props.getProperty(name).trim());
            }
        }
        return checked(values, known, problems);
    }

    /** The settings with every problem of their values added to {@code problems}, or the exception listing them. */
    private static PgBridgeConfig checked(Map<String, String> values, Map<String, Setting> known, Problems problems) {
        problems.addAll(Settings.of(values).problems(known.values()));
        for (Map.Entry<String, String> e : values.entrySet()) {
            Setting s = settingOf(known, values, e.getKey());
            if (s != null && e.getKey().endsWith("uri")) {
                String problem = userInfoProblem(s, e.getValue(), known);
                if (problem != null) {
                    problems.add(problem);
                }
            }
        }
        problems.throwIfAny();
        return new PgBridgeConfig(values, known);
    }

    /**
     * "; did you mean X?" when a known setting is a few edits away from {@code name}, else "". Compares environment
     * names when {@code asEnv}, canonical keys otherwise.
     */
    private static String suggestion(Map<String, Setting> known, String name, boolean asEnv) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (Setting s : known.values()) {
            String candidate = asEnv ? s.envName() : s.key();
            int d = editDistance(name.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.max(2, name.length() / 4) ? "; did you mean " + best + "?" : "";
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /**
     * A URI whose user or password holds a character that ends the userinfo part ({@code @ # / ?}) parses as another
     * host, or not at all, and fails later with a vague error: name the character and the fix instead. Only the part
     * before the last {@code @} is considered userinfo, and only when what follows it looks like a host.
     */
    static String userInfoProblem(Setting setting, String uri, Map<String, Setting> known) {
        int start = uri.indexOf("://");
        int at = uri.lastIndexOf('@');
        if (start < 0
                || at < start + 3
                || !HOST_AND_REST.matcher(uri.substring(at + 1)).matches()) {
            return null;
        }
        String userInfo = uri.substring(start + 3, at);
        boolean query = userInfo.indexOf('=') >= 0;
        String bad = null;
        if (userInfo.indexOf('#') >= 0) {
            bad = "#";
        } else if (!query && userInfo.indexOf('@') >= 0) {
            bad = "@";
        } else if (!query && userInfo.indexOf('/') >= 0) {
            bad = "/";
        } else if (!query && userInfo.indexOf('?') >= 0) {
            bad = "?";
        }
        if (bad == null) {
            return null;
        }
        String shown = uri.substring(0, start + 3) + "****@" + uri.substring(at + 1);
        String passwordKey = setting.key().substring(0, setting.key().length() - "uri".length()) + "password";
        String instead = known.containsKey(passwordKey)
                ? ", or leave the password out of the URI and set " + Setting.envName(passwordKey)
                : "";
        return Settings.problem(
                setting,
                shown,
                "its user or password holds '" + bad + "', which ends that part of a URI: percent-encode it (@ as %40,"
                        + " # as %23, / as %2F, ? as %3F, : in a user as %3A)" + instead);
    }

    /**
     * Every setting known: the core's, then those of each source, sink and {@link SettingsProvider} on the class path,
     * in that order.
     * What {@code pgbridge --help} lists.
     */
    public static List<Setting> settings() {
        return List.copyOf(knownSettings().values());
    }

    /**
     * Whether no setting is set: no {@code PGBRIDGE_*} variable (other than {@code PGBRIDGE_TEST_*}), no seed
     * name, or an empty properties file.
     */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /**
     * These settings with {@code other}'s values laid over them: a value set in {@code other} wins. How the runner
     * combines a properties file with the environment.
     */
    public PgBridgeConfig overriddenBy(PgBridgeConfig other) {
        Map<String, String> merged = new LinkedHashMap<>(values);
        merged.putAll(other.values);
        return new PgBridgeConfig(merged, known);
    }

    private static Map<String, Setting> knownSettings() {
        return KnownSettings.all();
    }

    /**
     * For each sink named in {@code sinks}: every key and environment name of its settings ({@code sink.rabbit.uri},
     * {@code PGBRIDGE_SINK_RABBIT_URI}, ...) mapped to the key.
     */
    private static Map<String, String> namedSinkKeys(Map<String, Setting> known, Map<String, String> values) {
        Map<String, String> named = new LinkedHashMap<>();
        for (String sink : NamedSinks.names(Settings.of(values))) {
            for (Setting s : NamedSinks.sinkSettings(known)) {
                String key = NamedSinks.key(sink, s);
                named.put(key, key);
                named.put(Setting.envName(key), key);
            }
        }
        return named;
    }

    /** The setting of a key, also of a named sink's key ({@code sink.rabbit.password} is a secret), or {@code null}. */
    private static Setting settingOf(Map<String, Setting> known, Map<String, String> values, String key) {
        Setting s = known.get(key);
        if (s == null && key.startsWith("sink.")) {
            for (String sink : NamedSinks.names(Settings.of(values))) {
                for (Setting candidate : NamedSinks.sinkSettings(known)) {
                    if (NamedSinks.key(sink, candidate).equals(key)) {
                        return candidate;
                    }
                }
            }
        }
        return s;
    }

    /** The value of a canonical key, or {@code null}. May be a secret: do not log it. */
    public String get(String key) {
        return values.get(key);
    }

    /** Whether a canonical key was set. */
    public boolean isSet(String key) {
        return values.containsKey(key);
    }

    /** A copy with one more value by canonical key ({@code null} removes it). */
    public PgBridgeConfig with(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(values);
        if (value == null) {
            copy.remove(key);
        } else {
            copy.put(key, value);
        }
        return new PgBridgeConfig(copy, known);
    }

    /** A builder holding these settings; add sinks, sources or routes in code before {@code build()}. */
    public PgBridge.Builder toBuilder() {
        return PgBridge.builder().settings(values);
    }

    /** Each setting with its value; secrets shown as {@code ****}, passwords in URIs redacted. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("PgBridgeConfig{");
        String sep = "";
        for (Map.Entry<String, String> e : values.entrySet()) {
            Setting s = settingOf(known, values, e.getKey());
            String shown = s != null && s.isSecret() ? "****" : Redaction.redact(e.getValue());
            sb.append(sep).append(e.getKey()).append('=').append(shown);
            sep = ", ";
        }
        return sb.append('}').toString();
    }
}
