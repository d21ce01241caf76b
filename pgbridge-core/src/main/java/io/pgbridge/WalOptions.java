package io.pgbridge;

import io.pgbridge.internal.config.Ranges;
import io.pgbridge.internal.wal.WalSettings;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of the {@code wal} source (logical replication of the routed {@code schema.table} channels). Immutable and
 * thread-safe.
 *
 * <pre>{@code
 * PgBridge.builder().wal(w -> w.slot("orders").publication("orders_pub"))
 * }</pre>
 *
 * <p>String keys: {@code wal.*} ({@code PGBRIDGE_WAL_*}); a value set in code wins over the string setting. Names
 * (slot, publication) and the plugin are checked by {@code PgBridge.Builder.build()}, which reports every problem at
 * once; setters throw {@link IllegalArgumentException} only for a value out of range.
 */
public final class WalOptions {
    /** {@code wal.slot}: the logical replication slot, created when missing. */
    public static final String DEFAULT_SLOT = "pgbridge";
    /** {@code wal.output-plugin}: {@code pgoutput} (typed change events) or {@code wal2json}. */
    public static final String DEFAULT_OUTPUT_PLUGIN = "pgoutput";
    /** {@code wal.wal2json-params}: wal2json options as in the seed. */
    public static final String DEFAULT_WAL2JSON_PARAMS = "\"format-version\" '2', \"include-types\" '0'";
    /** {@code wal.status-interval-ms}: replication status updates to the server. */
    public static final Duration DEFAULT_STATUS_INTERVAL = Duration.ofSeconds(10);
    /**
     * {@code wal.read-timeout-ms}: how long a read inside a transaction waits for the next message, the same 60 s as
     * PostgreSQL's default {@code wal_sender_timeout}.
     */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);
    /** {@code wal.heartbeat-interval-ms}: heartbeats and slot lag measurements; zero turns both off. */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(10);
    /** {@code wal.lag-warning-bytes}: warn while the slot is this far behind, 1 GiB. */
    public static final long DEFAULT_LAG_WARNING_BYTES = 1024L * 1024 * 1024;
    /** {@code wal.reconnect-max-backoff-ms}: longest wait between reconnection attempts. */
    public static final Duration DEFAULT_RECONNECT_MAX_BACKOFF = Duration.ofSeconds(10);
    /** {@code wal.snapshot}: no initial snapshot, only changes made after the slot exists. */
    public static final Snapshot DEFAULT_SNAPSHOT = Snapshot.NEVER;

    /**
     * {@code wal.backfill-requests}: the table of online backfill requests ({@code pgbridge backfill}) in the pgbridge
     * schema's default place.
     */
    public static final String DEFAULT_BACKFILL_REQUESTS = "pgbridge.backfill_requests";
    /** {@code wal.backfill-requests}: the value that turns backfill requests off. */
    public static final String NO_BACKFILL_REQUESTS = "none";

    /** {@code wal.snapshot}: whether the routed tables' existing rows are read before streaming (docs/wal.md). */
    public enum Snapshot {
        /** Stream only the changes made after the slot exists. */
        NEVER("never"),
        /**
         * When the slot is created, read the routed tables in its exported snapshot as {@code op: "r"} events, then
         * stream from its consistent point; needs pgoutput and a persistent slot.
         */
        INITIAL("initial"),
        /** Read the routed tables once, create no slot and stream nothing. */
        INITIAL_ONLY("initial-only");

        private final String text;

        Snapshot(String text) {
            this.text = text;
        }

        /** The setting's text: {@code never}, {@code initial} or {@code initial-only}. */
        public String text() {
            return text;
        }

        /** The mode of a setting's text, or {@code null} when there is none. */
        public static Snapshot fromText(String text) {
            for (Snapshot s : values()) {
                if (s.text.equals(text.trim())) {
                    return s;
                }
            }
            return null;
        }
    }

    private final String slot;
    private final boolean temporarySlot;
    private final String outputPlugin;
    private final String publication;
    private final String wal2jsonParams;
    private final Duration statusInterval;
    private final Duration readTimeout;
    private final Duration heartbeatInterval;
    private final long lagWarningBytes;
    private final Duration reconnectMaxBackoff;
    private final Snapshot snapshot;
    private final String backfillRequests;

    private WalOptions(Builder b) {
        this.slot = b.slot;
        this.temporarySlot = b.temporarySlot;
        this.outputPlugin = b.outputPlugin;
        this.publication = b.publication;
        this.wal2jsonParams = b.wal2jsonParams;
        this.statusInterval = b.statusInterval;
        this.readTimeout = b.readTimeout;
        this.heartbeatInterval = b.heartbeatInterval;
        this.lagWarningBytes = b.lagWarningBytes;
        this.reconnectMaxBackoff = b.reconnectMaxBackoff;
        this.snapshot = b.snapshot;
        this.backfillRequests = b.backfillRequests;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.slot = slot;
        b.temporarySlot = temporarySlot;
        b.outputPlugin = outputPlugin;
        b.publication = publication;
        b.wal2jsonParams = wal2jsonParams;
        b.statusInterval = statusInterval;
        b.readTimeout = readTimeout;
        b.heartbeatInterval = heartbeatInterval;
        b.lagWarningBytes = lagWarningBytes;
        b.reconnectMaxBackoff = reconnectMaxBackoff;
        b.snapshot = snapshot;
        b.backfillRequests = backfillRequests;
        return b;
    }

    public String slot() {
        return slot;
    }

    public boolean temporarySlot() {
        return temporarySlot;
    }

    public String outputPlugin() {
        return outputPlugin;
    }

    /** The pgoutput publication, or {@code null} for the slot's name. */
    public String publication() {
        return publication;
    }

    public String wal2jsonParams() {
        return wal2jsonParams;
    }

    public Duration statusInterval() {
        return statusInterval;
    }

    /** How long a read inside a transaction waits for the next message; see {@link Builder#readTimeout(Duration)}. */
    public Duration readTimeout() {
        return readTimeout;
    }

    /** Zero when heartbeats and lag measurements are off. */
    public Duration heartbeatInterval() {
        return heartbeatInterval;
    }

    public long lagWarningBytes() {
        return lagWarningBytes;
    }

    public Duration reconnectMaxBackoff() {
        return reconnectMaxBackoff;
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    /** The table of online backfill requests this bridge takes, {@code schema.table}, or {@value #NO_BACKFILL_REQUESTS}. */
    public String backfillRequests() {
        return backfillRequests;
    }

    @Override
    public String toString() {
        return "WalOptions{slot=" + slot + ", temporarySlot=" + temporarySlot + ", outputPlugin=" + outputPlugin
                + ", publication=" + publication + ", statusInterval=" + statusInterval.toMillis()
                + "ms, readTimeout=" + readTimeout.toMillis()
                + "ms, heartbeatInterval=" + heartbeatInterval.toMillis() + "ms, lagWarningBytes=" + lagWarningBytes
                + '}';
    }

    /** Collects WAL options; not thread-safe. */
    public static final class Builder {
        private String slot = DEFAULT_SLOT;
        private boolean temporarySlot;
        private String outputPlugin = DEFAULT_OUTPUT_PLUGIN;
        private String publication;
        private String wal2jsonParams = DEFAULT_WAL2JSON_PARAMS;
        private Duration statusInterval = DEFAULT_STATUS_INTERVAL;
        private Duration readTimeout = DEFAULT_READ_TIMEOUT;
        private Duration heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
        private long lagWarningBytes = DEFAULT_LAG_WARNING_BYTES;
        private Duration reconnectMaxBackoff = DEFAULT_RECONNECT_MAX_BACKOFF;
        private Snapshot snapshot = DEFAULT_SNAPSHOT;
        private String backfillRequests = DEFAULT_BACKFILL_REQUESTS;

        private Builder() {}

        /** The slot, lower-case letters, digits and {@code _}; created when missing; default {@value #DEFAULT_SLOT}. */
        public Builder slot(String slot) {
            this.slot = Objects.requireNonNull(slot, "slot").trim();
            return this;
        }

        /**
         * A temporary slot that PostgreSQL drops when the connection ends (default {@code false}): nothing is kept
         * while the bridge is down or reconnecting, so changes made meanwhile are not delivered.
         */
        public Builder temporarySlot(boolean temporary) {
            this.temporarySlot = temporary;
            return this;
        }

        /** {@code pgoutput} (default) or {@code wal2json}. */
        public Builder outputPlugin(String plugin) {
            this.outputPlugin = Objects.requireNonNull(plugin, "plugin").trim();
            return this;
        }

        /**
         * The pgoutput publication; {@code null} (the default) means the slot's name. Created when missing; an
         * existing one is used and the routed tables are added to it.
         */
        public Builder publication(String publication) {
            this.publication = publication == null ? null : publication.trim();
            return this;
        }

        /** wal2json options, {@code "name" 'value', ...}; must hold {@code "format-version" '2'}. */
        public Builder wal2jsonParams(String params) {
            this.wal2jsonParams = Objects.requireNonNull(params, "params");
            return this;
        }

        /** Replication status updates, 100 ms to 1 h; keep well below {@code wal_sender_timeout}; default 10 s. */
        public Builder statusInterval(Duration interval) {
            this.statusInterval = Ranges.check(WalSettings.STATUS_INTERVAL, "statusInterval", interval);
            return this;
        }

        /**
         * How long a read inside a transaction (from its Begin to its Commit, which the server sends one after another
         * without waiting) may wait for the server's next message before the replication connection is taken for dead
         * (a network path that stopped carrying bytes, with no FIN or RST) and the source reconnects: it reports
         * {@link SourceState#RECONNECTING} and reads the transaction again from the last confirmed position, skipping
         * the events it handed over already. Between transactions, where the stream may be idle for any time, the
         * reader never waits this long. Keep it above the longest pause the server may make within a transaction, or
         * such a transaction is read again and again. The new connection gets the slot once the server ended the old
         * walsender, within its {@code wal_sender_timeout}.
         *
         * @param timeout 1 s to 1 h; default {@link #DEFAULT_READ_TIMEOUT} (60 s, as PostgreSQL's default
         *     {@code wal_sender_timeout})
         * @throws NullPointerException when {@code timeout} is null
         * @throws IllegalArgumentException when {@code timeout} is shorter than 1 s or longer than 1 h
         */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = Ranges.check(WalSettings.READ_TIMEOUT, "readTimeout", timeout);
            return this;
        }

        /** Heartbeats and lag measurements, 0 (off) to 1 h; default 10 s. */
        public Builder heartbeatInterval(Duration interval) {
            this.heartbeatInterval = Ranges.check(WalSettings.HEARTBEAT_INTERVAL, "heartbeatInterval", interval);
            return this;
        }

        /** Warn while the slot's confirmed position is this many bytes behind; default 1 GiB. */
        public Builder lagWarningBytes(long bytes) {
            this.lagWarningBytes = Ranges.check(WalSettings.LAG_WARNING_BYTES, "lagWarningBytes", bytes);
            return this;
        }

        /** Longest wait between reconnection attempts, 250 ms to 10 min; default 10 s. */
        public Builder reconnectMaxBackoff(Duration max) {
            this.reconnectMaxBackoff = Ranges.check(WalSettings.RECONNECT_MAX_BACKOFF, "reconnectMaxBackoff", max);
            return this;
        }

        /** Whether existing rows are read before streaming; default {@link Snapshot#NEVER}. */
        public Builder snapshot(Snapshot snapshot) {
            this.snapshot = Objects.requireNonNull(snapshot, "snapshot");
            return this;
        }

        /**
         * The table of online backfill requests this bridge takes ({@code pgbridge backfill}, docs/wal.md),
         * {@code schema.table}, polled every second while it exists; {@value #NO_BACKFILL_REQUESTS} turns requests
         * off; default {@value #DEFAULT_BACKFILL_REQUESTS}, which the pgbridge schema (pgbridge-sql) creates.
         */
        public Builder backfillRequests(String table) {
            this.backfillRequests = Objects.requireNonNull(table, "table").trim();
            return this;
        }

        public WalOptions build() {
            return new WalOptions(this);
        }
    }
}
