package io.pgbridge;

import io.pgbridge.internal.NamedSinks;
import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.KnownSettings;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.support.Redaction;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pgbridge's settings read from environment variables or a properties file, for running the bridge without code:
 *
 * <pre>{@code
 * PgBridge bridge = PgBridgeConfig.fromEnvironment().toBuilder().build();
 * }</pre>
 *
 * <p>Every setting has a canonical key ({@code upstream.uri}), an environment variable ({@code PGBRIDGE_UPSTREAM_URI})
 * and, where the seed had one, its old name ({@code PGPROXY_LOCAL-UPSTREAM_CONFIG-URI}). A properties file may use any
 * of the three. The settings known are the core's plus those of every source and sink provider on the class path.
 * The main ones:
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
 * <p>Immutable. {@link #toString()} redacts secrets.
 */
public final class PgBridgeConfig {
    private static final Logger log = LoggerFactory.getLogger(PgBridgeConfig.class);

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
     * Reads settings from environment-style variables. Unknown {@code PGBRIDGE_*} variables are logged as warnings
     * (other programs' variables may share the prefix, so they are not errors).
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
        Map<String, String> named = namedSinkKeys(known, values);
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith("PGBRIDGE_") || name.startsWith("PGBRIDGE_TEST_")) {
                continue;
            }
            if (named.containsKey(name)) {
                values.put(named.get(name), env.get(name));
                continue;
            }
            Setting s = KnownSettings.resolve(known, name);
            if (s == null) {
                log.warn("Ignoring unknown environment variable {}", name);
            } else if (!values.containsKey(s.key())) {
                values.put(s.key(), env.get(name)); // a deprecated name; the current one wins when both are set
            }
        }
        return new PgBridgeConfig(values, known);
    }

    /**
     * Reads a properties file (UTF-8). Keys may be canonical ({@code upstream.uri}), environment names or the seed's
     * names.
     *
     * @throws ConfigurationException naming every unknown key, or when the file cannot be read
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

    /** @throws ConfigurationException naming every unknown key */
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
                problems.add("unknown key '" + name + "'; known keys: " + String.join(", ", known.keySet()));
            } else {
                values.put(s.key(), props.getProperty(name).trim());
            }
        }
        problems.throwIfAny();
        return new PgBridgeConfig(values, known);
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
    private Setting settingOf(String key) {
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
            Setting s = settingOf(e.getKey());
            String shown = s != null && s.isSecret() ? "****" : Redaction.redact(e.getValue());
            sb.append(sep).append(e.getKey()).append('=').append(shown);
            sep = ", ";
        }
        return sb.append('}').toString();
    }
}
