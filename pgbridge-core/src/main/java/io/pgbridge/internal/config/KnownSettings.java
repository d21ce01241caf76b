package io.pgbridge.internal.config;

import io.pgbridge.internal.Providers;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.SettingsProvider;
import io.pgbridge.spi.SinkProvider;
import io.pgbridge.spi.SourceProvider;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every setting pgbridge knows (the core's plus those of each source, sink and settings provider on the class path), and the
 * resolution of any name a user may write for one: canonical key, environment variable, the seed's alias, or a
 * deprecated former key (or its environment variable), which is accepted with a warning logged once per name.
 */
public final class KnownSettings {
    private static final Logger log = LoggerFactory.getLogger(KnownSettings.class);
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private KnownSettings() {}

    /** By canonical key, in a stable order: the core's first, then the sources', the sinks' and other
     * {@link SettingsProvider}s' (the runner's). */
    public static Map<String, Setting> all() {
        Map<String, Setting> known = new LinkedHashMap<>();
        CoreSettings.ALL.forEach(s -> known.put(s.key(), s));
        for (SourceProvider p : Providers.load(SourceProvider.class)) {
            p.settings().forEach(s -> known.putIfAbsent(s.key(), s));
        }
        for (SinkProvider p : Providers.load(SinkProvider.class)) {
            p.settings().forEach(s -> known.putIfAbsent(s.key(), s));
        }
        for (SettingsProvider p : Providers.load(SettingsProvider.class)) {
            p.settings().forEach(s -> known.putIfAbsent(s.key(), s));
        }
        return Collections.unmodifiableMap(known);
    }

    /**
     * The setting a name stands for, or {@code null}. A deprecated name logs a warning (once per name) that says the
     * key to use instead.
     */
    public static Setting resolve(Map<String, Setting> known, String name) {
        Setting s = known.get(name);
        if (s != null) {
            return s;
        }
        for (Setting k : known.values()) {
            if (k.envName().equals(name) || k.aliases().contains(name)) {
                return k;
            }
            for (String old : k.deprecatedKeys()) {
                if (old.equals(name) || Setting.envName(old).equals(name)) {
                    if (WARNED.add(name)) {
                        log.warn(
                                "Setting {} is deprecated and will be removed: use {} ({}) instead",
                                name,
                                k.key(),
                                k.envName());
                    }
                    return k;
                }
            }
        }
        return null;
    }

    /** The current key for a deprecated one (logging the warning once), else the key as given. */
    public static String canonicalKey(String key) {
        Map<String, Setting> known = all();
        if (known.containsKey(key)) {
            return key;
        }
        Setting s = resolve(known, key);
        return s != null && s.deprecatedKeys().contains(key) ? s.key() : key;
    }
}
