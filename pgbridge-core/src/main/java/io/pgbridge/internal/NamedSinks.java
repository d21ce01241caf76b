package io.pgbridge.internal;

import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.UpstreamSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Several named sinks from one configuration: {@code sinks=rabbit,hooks} ({@code PGBRIDGE_SINKS}), and for each name
 * its own settings under {@code sink.<name>.}: {@code sink.rabbit.uri} ({@code PGBRIDGE_SINK_RABBIT_URI}), {@code
 * sink.rabbit.upstream}, {@code .username}, {@code .password} stand for the {@code upstream.*} settings, any other key
 * is a sink setting ({@code sink.rabbit.amqp.delivery-mode}, {@code PGBRIDGE_SINK_RABBIT_AMQP_DELIVERY_MODE}). Routes
 * pick a named sink as {@code channel->rabbit/exchange:x}.
 */
public final class NamedSinks {
    private static final Map<String, Setting> SHORT = Map.of(
            "uri", UpstreamSettings.URI,
            "upstream", CoreSettings.UPSTREAM,
            "username", UpstreamSettings.USERNAME,
            "password", UpstreamSettings.PASSWORD);

    private NamedSinks() {}

    /** The names listed in {@code sinks}, lower-cased, in order, without blanks or repeats. */
    public static Set<String> names(Settings settings) {
        Set<String> names = new LinkedHashSet<>();
        String text = settings.string(CoreSettings.SINKS);
        if (text != null) {
            for (String n : text.split(",")) {
                if (!n.isBlank()) {
                    names.add(n.trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        return names;
    }

    /** {@code PGBRIDGE_SINK_<NAME>_}. */
    public static String envPrefix(String name) {
        return Setting.envName("sink." + name + ".").replaceAll("_+$", "_");
    }

    /** The key of one sink's setting: {@code sink.<name>.uri} for {@code upstream.uri}, else {@code sink.<name>.<key>}. */
    public static String key(String name, Setting setting) {
        for (Map.Entry<String, Setting> e : SHORT.entrySet()) {
            if (e.getValue().equals(setting)) {
                return "sink." + name + "." + e.getKey();
            }
        }
        return "sink." + name + "." + setting.key();
    }

    /** The settings one named sink may carry: the {@code upstream.*} ones and every sink provider's. */
    public static List<Setting> sinkSettings(Map<String, Setting> known) {
        List<Setting> out = new ArrayList<>(SHORT.values());
        for (Setting s : known.values()) {
            if (!CoreSettings.ALL.contains(s) && !out.contains(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** The named sink's values under their plain keys ({@code upstream.uri}, {@code amqp.delivery-mode}, ...). */
    static Settings settingsOf(String name, Settings settings) {
        String prefix = "sink." + name + ".";
        Map<String, String> own = new LinkedHashMap<>();
        settings.asMap().forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                String rest = k.substring(prefix.length());
                Setting shortForm = SHORT.get(rest);
                own.put(shortForm != null ? shortForm.key() : rest, v);
            }
        });
        return Settings.of(own);
    }
}
