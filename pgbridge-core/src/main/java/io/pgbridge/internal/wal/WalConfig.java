package io.pgbridge.internal.wal;

import io.pgbridge.ConfigurationException;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.internal.replication.ReplicationSetup;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Settings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The WAL source's settings, validated: every problem is reported at once. Immutable. */
final class WalConfig {
    static final String PGOUTPUT = "pgoutput";
    static final String WAL2JSON = "wal2json";
    private static final Pattern OPTION = Pattern.compile("\\s*\"([^\"]+)\"\\s+'([^']*)'\\s*(,|$)");

    final String slot;
    final boolean temporarySlot;
    final String plugin;
    final String publication;
    final Set<String> tables;
    final boolean allTables;
    final Map<String, String> pluginOptions;
    final Duration statusInterval;
    final Duration readTimeout;
    final Duration heartbeatInterval;
    final long lagWarningBytes;
    final Duration reconnectMaxBackoff;
    final WalOptions.Snapshot snapshot;
    /** The table of online backfill requests, {@code schema.table}; {@code null} when they are off. */
    final String backfillRequests;

    private WalConfig(WalOptions s, Set<String> tables, boolean allTables, Problems problems) {
        this.slot = s.slot();
        String slotProblem = ReplicationSetup.slotNameProblem(slot);
        if (slotProblem != null) {
            problems.add(Settings.problem(WalSettings.SLOT, slot, slotProblem));
        }
        this.temporarySlot = s.temporarySlot();
        this.plugin = s.outputPlugin();
        this.tables = Set.copyOf(tables);
        this.allTables = allTables;
        this.statusInterval = s.statusInterval();
        this.readTimeout = s.readTimeout();
        this.heartbeatInterval = s.heartbeatInterval();
        this.lagWarningBytes = s.lagWarningBytes();
        this.reconnectMaxBackoff = s.reconnectMaxBackoff();
        this.snapshot = snapshotMode(s.snapshot(), tables, temporarySlot, problems);
        this.backfillRequests = backfillRequests(s.backfillRequests(), problems);
        Map<String, String> options = new LinkedHashMap<>();
        if (plugin.equals(PGOUTPUT)) {
            this.publication = s.publication() != null ? s.publication() : slot;
            String pubProblem = Identifiers.problem("publication name", publication);
            if (pubProblem != null) {
                problems.add(Settings.problem(WalSettings.PUBLICATION, publication, pubProblem));
            }
            options.put("proto_version", "1");
            options.put("publication_names", publication);
            options.put("messages", "true");
        } else if (plugin.equals(WAL2JSON)) {
            this.publication = null;
            String params = s.wal2jsonParams();
            wal2JsonOptions(params, options, problems);
            if (!"2".equals(options.get("format-version"))) {
                problems.add(Settings.problem(
                        WalSettings.WAL2JSON_PARAMS,
                        params,
                        "must hold \"format-version\" '2': format 1 writes a whole transaction as one JSON document, "
                                + "which neither fits in bounded memory nor can be split into events"));
            }
            options.putIfAbsent("include-lsn", "1");
            if (!allTables && !tables.isEmpty()) {
                options.putIfAbsent("add-tables", String.join(",", tables));
            }
        } else {
            this.publication = null;
            problems.add(Settings.problem(WalSettings.OUTPUT_PLUGIN, plugin, "must be pgoutput or wal2json"));
        }
        this.pluginOptions = Map.copyOf(options);
    }

    /** @throws ConfigurationException listing every invalid setting */
    static WalConfig from(WalOptions options, Set<String> channels, String catchAll) {
        Set<String> tables = new LinkedHashSet<>();
        for (String c : channels) {
            if (c.indexOf('.') > 0) {
                tables.add(c);
            }
        }
        Problems problems = new Problems();
        WalConfig config = new WalConfig(options, tables, channels.contains(catchAll), problems);
        problems.throwIfAny();
        return config;
    }

    /** The table of backfill requests, {@code null} for none, with a problem added when it is not schema.table. */
    private static String backfillRequests(String table, Problems problems) {
        if (table.equals(WalOptions.NO_BACKFILL_REQUESTS)) {
            return null;
        }
        int dot = table.indexOf('.');
        String problem = dot < 0
                ? "must be schema.table (or " + WalOptions.NO_BACKFILL_REQUESTS + ")"
                : Identifiers.problem("schema", table.substring(0, dot));
        if (problem == null) {
            problem = Identifiers.problem("table", table.substring(dot + 1));
        }
        if (problem != null) {
            problems.add(Settings.problem(WalSettings.BACKFILL_REQUESTS, table, problem));
        }
        return table;
    }

    /** The snapshot mode, with a problem added when this source cannot take it. */
    private WalOptions.Snapshot snapshotMode(
            WalOptions.Snapshot mode, Set<String> tables, boolean temporary, Problems problems) {
        if (mode == WalOptions.Snapshot.NEVER) {
            return mode;
        }
        if (!plugin.equals(PGOUTPUT)) {
            problems.add(
                    WalSettings.SNAPSHOT,
                    mode.text(),
                    "needs wal.output-plugin=pgoutput (snapshot rows are written in pgoutput's event shape)");
        } else if (temporary && mode == WalOptions.Snapshot.INITIAL) {
            problems.add(
                    WalSettings.SNAPSHOT,
                    mode.text(),
                    "needs a persistent slot: set wal.temporary-slot=false (a temporary slot is created anew on every"
                            + " connection, so there is no consistent point to resume at)");
        } else if (tables.isEmpty()) {
            problems.add(
                    WalSettings.SNAPSHOT,
                    mode.text(),
                    "needs at least one routed schema.table channel (the catch-all channel is not snapshotted)");
        }
        return mode;
    }

    private static void wal2JsonOptions(String text, Map<String, String> into, Problems problems) {
        Matcher m = OPTION.matcher(text);
        int at = 0;
        while (at < text.length() && m.find(at) && m.start() == at) {
            into.put(m.group(1), m.group(2));
            at = m.end();
        }
        if (at < text.trim().length() || into.isEmpty()) {
            problems.add(Settings.problem(
                    WalSettings.WAL2JSON_PARAMS, text, "must be a list of \"name\" 'value' pairs separated by commas"));
        }
    }

    boolean isWal2Json() {
        return plugin.equals(WAL2JSON);
    }

    ReplicationSetup.Spec spec() {
        // pgoutput reads no table without a publication; wal2json decodes every table and filters itself
        return new ReplicationSetup.Spec(slot, plugin, temporarySlot, publication, tables, allTables, true);
    }
}
