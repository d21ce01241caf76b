package io.pgbridge;

import io.pgbridge.internal.config.Ranges;
import io.pgbridge.internal.outbox.OutboxSettings;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of the {@code outbox} source (the {@code pgbridge.events} table). Immutable and thread-safe.
 *
 * <pre>{@code
 * PgBridge.builder().source("outbox").outbox(o -> o.mode(OutboxOptions.Mode.STREAMING).streamId(2))
 * }</pre>
 *
 * <p>String keys: {@code outbox.*} ({@code PGBRIDGE_OUTBOX_*}); a value set in code wins over the string setting.
 * The schema name is checked by {@code PgBridge.Builder.build()}; setters throw {@link IllegalArgumentException} for a
 * value out of range.
 */
public final class OutboxOptions {
    /** How the outbox is read. */
    public enum Mode {
        /** Any server: NOTIFY wake-up and {@code SELECT ... FOR UPDATE SKIP LOCKED} claims with a lease. */
        POLLING,
        /** Logical replication in commit order; needs {@code wal_level=logical} and the REPLICATION attribute. */
        STREAMING
    }

    /** {@code outbox.schema}: the schema {@code PgBridgeSchema.migrate} installed. */
    public static final String DEFAULT_SCHEMA = "pgbridge";
    /** {@code outbox.mode}. */
    public static final Mode DEFAULT_MODE = Mode.POLLING;
    /** {@code outbox.stream-id}: which stream of the outbox ({@code events.stream_id}) this bridge delivers. */
    public static final long DEFAULT_STREAM_ID = 1;
    /** {@code outbox.poll-interval-ms}: polling mode, the longest wait for a NOTIFY wake-up. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    /** {@code outbox.batch-size}: polling mode, the most events claimed at a time. */
    public static final int DEFAULT_BATCH_SIZE = 500;
    /** {@code outbox.lease-ms}: polling mode, how long a claim keeps its events from other bridges. */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
    /** {@code outbox.partitions-ahead-days}: daily partitions kept created ahead. */
    public static final int DEFAULT_PARTITIONS_AHEAD_DAYS = 3;
    /** {@code outbox.retention-days}: older daily partitions are dropped unless they hold undelivered events. */
    public static final int DEFAULT_RETENTION_DAYS = 7;
    /** {@code outbox.maintenance-interval-ms}: how often partition maintenance runs. */
    public static final Duration DEFAULT_MAINTENANCE_INTERVAL = Duration.ofHours(1);
    /** {@code outbox.dead-letter-table}: refused events go to {@code <schema>.dead_letters}. */
    public static final boolean DEFAULT_DEAD_LETTER_TABLE = true;
    /** {@code outbox.reconnect-max-backoff-ms}: longest wait between reconnection attempts. */
    public static final Duration DEFAULT_RECONNECT_MAX_BACKOFF = Duration.ofSeconds(10);
    /** {@code outbox.replay-after-ms}: streaming mode, when unconfirmed events are left to a later replay. */
    public static final Duration DEFAULT_REPLAY_AFTER = Duration.ofSeconds(30);

    private final String schema;
    private final Mode mode;
    private final String slot;
    private final String publication;
    private final long streamId;
    private final Duration pollInterval;
    private final int batchSize;
    private final Duration lease;
    private final int partitionsAheadDays;
    private final int retentionDays;
    private final Duration maintenanceInterval;
    private final boolean deadLetterTable;
    private final Duration reconnectMaxBackoff;
    private final Duration replayAfter;

    private OutboxOptions(Builder b) {
        this.schema = b.schema;
        this.mode = b.mode;
        this.slot = b.slot;
        this.publication = b.publication;
        this.streamId = b.streamId;
        this.pollInterval = b.pollInterval;
        this.batchSize = b.batchSize;
        this.lease = b.lease;
        this.partitionsAheadDays = b.partitionsAheadDays;
        this.retentionDays = b.retentionDays;
        this.maintenanceInterval = b.maintenanceInterval;
        this.deadLetterTable = b.deadLetterTable;
        this.reconnectMaxBackoff = b.reconnectMaxBackoff;
        this.replayAfter = b.replayAfter;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String schema() {
        return schema;
    }

    public Mode mode() {
        return mode;
    }

    /** Streaming mode: the slot, or {@code null} for {@code <schema>_outbox_<stream-id>}. */
    public String slot() {
        return slot;
    }

    /** Streaming mode: the publication, or {@code null} for the slot's name. */
    public String publication() {
        return publication;
    }

    public long streamId() {
        return streamId;
    }

    public Duration pollInterval() {
        return pollInterval;
    }

    public int batchSize() {
        return batchSize;
    }

    public Duration lease() {
        return lease;
    }

    public int partitionsAheadDays() {
        return partitionsAheadDays;
    }

    public int retentionDays() {
        return retentionDays;
    }

    public Duration maintenanceInterval() {
        return maintenanceInterval;
    }

    public boolean deadLetterTable() {
        return deadLetterTable;
    }

    public Duration reconnectMaxBackoff() {
        return reconnectMaxBackoff;
    }

    public Duration replayAfter() {
        return replayAfter;
    }

    @Override
    public String toString() {
        return "OutboxOptions{schema=" + schema + ", mode=" + mode + ", streamId=" + streamId + ", slot=" + slot
                + ", publication=" + publication + ", batchSize=" + batchSize + ", lease=" + lease.toMillis()
                + "ms, retentionDays=" + retentionDays + ", deadLetterTable=" + deadLetterTable + '}';
    }

    /** Collects outbox options; not thread-safe. */
    public static final class Builder {
        private String schema = DEFAULT_SCHEMA;
        private Mode mode = DEFAULT_MODE;
        private String slot;
        private String publication;
        private long streamId = DEFAULT_STREAM_ID;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Duration lease = DEFAULT_LEASE;
        private int partitionsAheadDays = DEFAULT_PARTITIONS_AHEAD_DAYS;
        private int retentionDays = DEFAULT_RETENTION_DAYS;
        private Duration maintenanceInterval = DEFAULT_MAINTENANCE_INTERVAL;
        private boolean deadLetterTable = DEFAULT_DEAD_LETTER_TABLE;
        private Duration reconnectMaxBackoff = DEFAULT_RECONNECT_MAX_BACKOFF;
        private Duration replayAfter = DEFAULT_REPLAY_AFTER;

        private Builder() {}

        /** The outbox's schema; default {@value #DEFAULT_SCHEMA}. */
        public Builder schema(String schema) {
            this.schema = Objects.requireNonNull(schema, "schema").trim();
            return this;
        }

        /** Polling (default) or streaming. */
        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Streaming mode: the slot; {@code null} (default) for {@code <schema>_outbox_<stream-id>}. */
        public Builder slot(String slot) {
            this.slot = slot == null ? null : slot.trim();
            return this;
        }

        /** Streaming mode: the publication on {@code <schema>.events}; {@code null} (default) for the slot's name. */
        public Builder publication(String publication) {
            this.publication = publication == null ? null : publication.trim();
            return this;
        }

        /** Which stream ({@code events.stream_id}) this bridge delivers, 0 or more; default 1. */
        public Builder streamId(long streamId) {
            this.streamId = Ranges.check(OutboxSettings.STREAM_ID, "streamId", streamId);
            return this;
        }

        /** Polling mode: the longest wait for a wake-up, 10 ms to 10 min; default 1 s. */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = Ranges.check(OutboxSettings.POLL_INTERVAL, "pollInterval", interval);
            return this;
        }

        /** Polling mode: the most events claimed at a time, 1 to 100,000; default 500. */
        public Builder batchSize(int events) {
            this.batchSize = (int) Ranges.check(OutboxSettings.BATCH_SIZE, "batchSize", events);
            return this;
        }

        /** Polling mode: how long a claim lasts (renewed every third while sinks work), 1 s to 1 h; default 30 s. */
        public Builder lease(Duration lease) {
            this.lease = Ranges.check(OutboxSettings.LEASE, "lease", lease);
            return this;
        }

        /** Daily partitions kept created ahead, 1 to 366; default 3. */
        public Builder partitionsAheadDays(int days) {
            this.partitionsAheadDays = (int) Ranges.check(OutboxSettings.PARTITIONS_AHEAD, "partitionsAheadDays", days);
            return this;
        }

        /** Days after which delivered daily partitions are dropped, 1 to 3650; default 7. */
        public Builder retentionDays(int days) {
            this.retentionDays = (int) Ranges.check(OutboxSettings.RETENTION, "retentionDays", days);
            return this;
        }

        /** How often partition maintenance runs, 1 s to 1 day; default 1 h. */
        public Builder maintenanceInterval(Duration interval) {
            this.maintenanceInterval =
                    Ranges.check(OutboxSettings.MAINTENANCE_INTERVAL, "maintenanceInterval", interval);
            return this;
        }

        /** Write refused events to {@code <schema>.dead_letters}; default {@code true}. */
        public Builder deadLetterTable(boolean enabled) {
            this.deadLetterTable = enabled;
            return this;
        }

        /** Longest wait between reconnection attempts, 250 ms to 10 min; default 10 s. */
        public Builder reconnectMaxBackoff(Duration max) {
            this.reconnectMaxBackoff = Ranges.check(OutboxSettings.RECONNECT_MAX_BACKOFF, "reconnectMaxBackoff", max);
            return this;
        }

        /** Streaming mode: unconfirmed this long, events are left to a replay from the table; default 30 s. */
        public Builder replayAfter(Duration after) {
            this.replayAfter = Ranges.check(OutboxSettings.REPLAY_AFTER, "replayAfter", after);
            return this;
        }

        public OutboxOptions build() {
            return new OutboxOptions(this);
        }
    }
}
