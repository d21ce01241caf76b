package io.pgbridge.internal.wal;

import io.pgbridge.WalOptions;
import io.pgbridge.spi.Setting;
import java.util.List;

/** The settings of the WAL source. */
public final class WalSettings {
    public static final Setting SLOT = Setting.string(
                    "wal.slot",
                    "Logical replication slot; created when missing. Lower-case letters, digits and '_' only")
            .withDefault(WalOptions.DEFAULT_SLOT)
            .withAliases("PGPROXY_LOCAL-REPLICATION_SLOT")
            .withDeprecatedKeys("replication.slot");
    public static final Setting TEMPORARY_SLOT = Setting.bool(
            "wal.temporary-slot",
            "Use a temporary slot that PostgreSQL drops when the connection ends: nothing is kept while the bridge is "
                    + "down or reconnecting, so changes made meanwhile are not delivered",
            false);
    public static final Setting OUTPUT_PLUGIN = Setting.string(
                    "wal.output-plugin",
                    "Output plugin: pgoutput (typed change events) or wal2json (wal2json's JSON passed on as is)")
            .withDefault(WalOptions.DEFAULT_OUTPUT_PLUGIN);
    public static final Setting PUBLICATION = Setting.string(
            "wal.publication",
            "pgoutput publication; default: the slot name. Created when missing (the routed tables, or FOR ALL "
                    + "TABLES when wal2json is routed); an existing one is used and routed tables are added to it");
    public static final Setting WAL2JSON_PARAMS = Setting.string(
                    "wal.wal2json-params",
                    "wal2json options as in the seed: \"name\" 'value', ... (include-lsn is added when absent)")
            .withDefault(WalOptions.DEFAULT_WAL2JSON_PARAMS)
            .withAliases("PGBRIDGE_WAL2JSON_PARAMS", "PGPROXY_LOCAL-WAL2JSON_PARAMS")
            .withDeprecatedKeys("replication.wal2json-params");
    public static final Setting STATUS_INTERVAL = Setting.durationMs(
            "wal.status-interval-ms",
            "Interval of replication status updates to the server; keep it well below wal_sender_timeout",
            WalOptions.DEFAULT_STATUS_INTERVAL.toMillis(),
            100,
            3_600_000);
    public static final Setting READ_TIMEOUT = Setting.durationMs(
            "wal.read-timeout-ms",
            "How long a read inside a transaction waits for the server's next message before the replication "
                    + "connection is taken for dead (a path that stopped carrying bytes) and the stream reconnects to "
                    + "read the transaction again; between transactions the reader never waits this long. PostgreSQL's "
                    + "wal_sender_timeout defaults to the same 60 s",
            WalOptions.DEFAULT_READ_TIMEOUT.toMillis(),
            1_000,
            3_600_000);
    public static final Setting HEARTBEAT_INTERVAL = Setting.durationMs(
            "wal.heartbeat-interval-ms",
            "Interval of heartbeats (pg_logical_emit_message) that let the slot advance in idle or filtered "
                    + "databases, and of slot lag measurements; 0 turns both off",
            WalOptions.DEFAULT_HEARTBEAT_INTERVAL.toMillis(),
            0,
            3_600_000);
    public static final Setting LAG_WARNING_BYTES = Setting.integer(
            "wal.lag-warning-bytes",
            "Log a warning while the slot's confirmed position is this many bytes behind the server's WAL",
            WalOptions.DEFAULT_LAG_WARNING_BYTES,
            1,
            Long.MAX_VALUE);
    public static final Setting RECONNECT_MAX_BACKOFF = Setting.durationMs(
            "wal.reconnect-max-backoff-ms",
            "Longest wait between reconnection attempts (starts at 250 ms and doubles)",
            WalOptions.DEFAULT_RECONNECT_MAX_BACKOFF.toMillis(),
            250,
            600_000);

    public static final Setting SNAPSHOT = Setting.string(
                    "wal.snapshot",
                    "Initial snapshot of the routed tables: never (stream only changes made after the slot exists), "
                            + "initial (when the slot is created, read the tables in its exported snapshot as op 'r' "
                            + "events, then stream from its consistent point) or initial-only (read the tables, "
                            + "stream nothing, create no slot)")
            .withDefault("never");

    public static final Setting BACKFILL_REQUESTS = Setting.string(
                    "wal.backfill-requests",
                    "The table of online backfill requests this bridge takes (pgbridge backfill inserts them; "
                            + "created by the pgbridge schema, version 7), schema.table, polled every second while it "
                            + "exists; none: no requests are taken")
            .withDefault(WalOptions.DEFAULT_BACKFILL_REQUESTS);

    public static final List<Setting> ALL = List.of(
            SLOT,
            TEMPORARY_SLOT,
            OUTPUT_PLUGIN,
            PUBLICATION,
            WAL2JSON_PARAMS,
            STATUS_INTERVAL,
            READ_TIMEOUT,
            HEARTBEAT_INTERVAL,
            LAG_WARNING_BYTES,
            RECONNECT_MAX_BACKOFF,
            SNAPSHOT,
            BACKFILL_REQUESTS);

    private WalSettings() {}
}
