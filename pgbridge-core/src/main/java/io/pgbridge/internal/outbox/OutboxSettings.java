package io.pgbridge.internal.outbox;

import io.pgbridge.OutboxOptions;
import io.pgbridge.spi.Setting;
import java.util.List;

/** The settings of the outbox source. */
public final class OutboxSettings {
    public static final Setting SCHEMA = Setting.string(
                    "outbox.schema",
                    "The schema that holds the outbox (events, streams, dead_letters), as installed by"
                            + " PgBridgeSchema.migrate")
            .withDefault(OutboxOptions.DEFAULT_SCHEMA);
    public static final Setting MODE = Setting.string(
                    "outbox.mode",
                    "How the outbox is read: streaming (logical replication, commit order; needs wal_level=logical and"
                            + " the REPLICATION attribute) or polling (any server; NOTIFY wake-up and SELECT ... FOR"
                            + " UPDATE SKIP LOCKED)")
            .withDefault(OutboxOptions.DEFAULT_MODE.name().toLowerCase(java.util.Locale.ROOT));
    public static final Setting SLOT = Setting.string(
            "outbox.slot",
            "Streaming mode: the logical replication slot; default <schema>_outbox_<stream-id> (schema cut to 40"
                    + " characters)");
    public static final Setting PUBLICATION = Setting.string(
            "outbox.publication",
            "Streaming mode: the publication on <schema>.events (created with publish_via_partition_root when"
                    + " missing); default the slot name");
    public static final Setting STREAM_ID = Setting.integer(
            "outbox.stream-id",
            "Which stream of the outbox this bridge delivers (events.stream_id); lets several bridges share one database",
            OutboxOptions.DEFAULT_STREAM_ID,
            0,
            Long.MAX_VALUE);
    public static final Setting POLL_INTERVAL = Setting.durationMs(
            "outbox.poll-interval-ms",
            "Polling mode: the longest wait for a NOTIFY wake-up before the table is polled anyway",
            OutboxOptions.DEFAULT_POLL_INTERVAL.toMillis(),
            10,
            600_000);
    public static final Setting BATCH_SIZE = Setting.integer(
            "outbox.batch-size",
            "Polling mode: the most events one instance claims at a time",
            OutboxOptions.DEFAULT_BATCH_SIZE,
            1,
            100_000);
    public static final Setting LEASE = Setting.durationMs(
            "outbox.lease-ms",
            "Polling mode: how long a claim keeps its events from other bridges. The claim commits at once (no"
                    + " transaction stays open while a sink is down); the bridge renews the lease every third of it while"
                    + " its sinks work, so a slow sink causes no duplicates, and the events of a bridge that crashed are"
                    + " claimed again by any bridge once the lease expires",
            OutboxOptions.DEFAULT_LEASE.toMillis(),
            1_000,
            3_600_000);
    public static final Setting PARTITIONS_AHEAD = Setting.integer(
            "outbox.partitions-ahead-days",
            "Daily partitions of the events table kept created from today on (pgbridge.create_partitions)",
            OutboxOptions.DEFAULT_PARTITIONS_AHEAD_DAYS,
            1,
            366);
    public static final Setting RETENTION = Setting.integer(
            "outbox.retention-days",
            "Daily partitions older than this many days are dropped (pgbridge.drop_partitions), except those holding"
                    + " events not delivered yet: they are kept, logged and shown in stats()",
            OutboxOptions.DEFAULT_RETENTION_DAYS,
            1,
            3_650);
    public static final Setting MAINTENANCE_INTERVAL = Setting.durationMs(
            "outbox.maintenance-interval-ms",
            "How often the bridge runs partition maintenance (also once at start)",
            OutboxOptions.DEFAULT_MAINTENANCE_INTERVAL.toMillis(),
            1_000,
            86_400_000);
    public static final Setting DEAD_LETTER_TABLE = Setting.bool(
            "outbox.dead-letter-table",
            "Write outbox events a sink refuses for good to <schema>.dead_letters (unless the builder was given a"
                    + " DeadLetterHandler)",
            OutboxOptions.DEFAULT_DEAD_LETTER_TABLE);
    public static final Setting RECONNECT_MAX_BACKOFF = Setting.durationMs(
            "outbox.reconnect-max-backoff-ms",
            "The longest wait between two reconnection attempts (starts at 250 ms and doubles)",
            OutboxOptions.DEFAULT_RECONNECT_MAX_BACKOFF.toMillis(),
            250,
            600_000);

    public static final Setting REPLAY_AFTER = Setting.durationMs(
            "outbox.replay-after-ms",
            "Streaming mode: when an event handed to the sinks stays unconfirmed this long (a sink is down), the"
                    + " bridge records the checkpoint, lets the slot move on (the events stay in the table), and after"
                    + " the sinks confirm again replays the missed events from the table in commit order",
            OutboxOptions.DEFAULT_REPLAY_AFTER.toMillis(),
            100,
            86_400_000);

    public static final List<Setting> ALL = List.of(
            MODE,
            SCHEMA,
            STREAM_ID,
            POLL_INTERVAL,
            BATCH_SIZE,
            LEASE,
            PARTITIONS_AHEAD,
            RETENTION,
            MAINTENANCE_INTERVAL,
            DEAD_LETTER_TABLE,
            RECONNECT_MAX_BACKOFF,
            SLOT,
            PUBLICATION,
            REPLAY_AFTER);

    private OutboxSettings() {}
}
