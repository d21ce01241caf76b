package io.pgbridge.spring.boot;

import io.pgbridge.NotifyOptions;
import io.pgbridge.OutboxOptions;
import io.pgbridge.PgBridge;
import io.pgbridge.PipelineOptions;
import io.pgbridge.WalOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * The {@code pgbridge.*} properties: the typed options of {@link PgBridge.Builder} ({@link PipelineOptions}, {@link
 * NotifyOptions}, {@link WalOptions}, {@link OutboxOptions}) plus the connection, routes, sources and free-form
 * settings. Bound with Spring Boot's relaxed binding ({@code pgbridge.pipeline.delivery-threads}, {@code
 * PGBRIDGE_PIPELINE_DELIVERYTHREADS}, ...). A property left unset keeps the option's default (the constants of the
 * options classes). Durations take Spring's forms ({@code 500ms}, {@code 30s}, an ISO-8601 duration, or plain
 * milliseconds).
 *
 * <p>Self-validating: a value an options builder rejects fails the application's start with a binding error naming
 * the property ({@code pgbridge.pipeline.delivery-threads}) and the builder's rule. Not thread-safe; Spring binds it
 * once, before the bridge is built.
 */
@ConfigurationProperties(PgBridgeProperties.PREFIX)
public class PgBridgeProperties implements Validator {
    /** The properties' prefix. */
    public static final String PREFIX = "pgbridge";

    /** Whether the auto-configuration creates and runs a bridge. */
    private boolean enabled = true;

    /**
     * The bridge's name: the bridge tag of every meter it records in the application's MeterRegistry; default
     * pgbridge. Another bridge in the same registry needs a name of its own.
     */
    private String name;

    /** The database the bridge reads; defaults to spring.datasource.*. */
    private final Postgres postgres = new Postgres();

    /**
     * The upstream broker's URI (amqp://user:pass@host:5672/%2f, mqtt://..., ...); its scheme selects
     * the sink module, which must be on the class path. Not needed when the application defines a Sink bean; without
     * both, events go to a logging sink.
     */
    private String upstream;

    /**
     * Routes, each channel->kind:name (as in PGBRIDGE_BRIDGE_CHANNELS), such as * orders->exchange:amq.topic.
     */
    private List<String> routes = new ArrayList<>();

    /** Sources to run (notify, wal, outbox); default: chosen from the routes. */
    private List<String> sources = new ArrayList<>();

    /**
     * Any other setting by its canonical key (sink settings such as amqp.delivery-mode, * health.lag-threshold-bytes), as in docs/settings; the typed properties win over these.
     */
    private Map<String, String> settings = new LinkedHashMap<>();

    private final Pipeline pipeline = new Pipeline();
    private final Notify notify = new Notify();
    private final Wal wal = new Wal();
    private final Outbox outbox = new Outbox();

    /** Applies every property set here to a builder (connection, routes, sources, settings, typed options). */
    void applyTo(PgBridge.Builder builder) {
        builder.settings(settings);
        if (name != null) {
            builder.name(name);
        }
        if (postgres.uri != null) {
            builder.postgres(postgres.uri);
        }
        if (postgres.user != null || postgres.password != null) {
            builder.postgresCredentials(postgres.user, postgres.password);
        }
        if (upstream != null) {
            builder.upstream(upstream);
        }
        if (!routes.isEmpty()) {
            builder.routes(String.join(", ", routes));
        }
        sources.forEach(builder::source);
        builder.pipeline(b -> pipeline.applyTo(b, Options.THROW));
        builder.notify(b -> notify.applyTo(b, Options.THROW));
        builder.wal(b -> wal.applyTo(b, Options.THROW));
        builder.outbox(b -> outbox.applyTo(b, Options.THROW));
    }

    @Override
    public boolean supports(Class<?> type) {
        return PgBridgeProperties.class.isAssignableFrom(type);
    }

    /** Runs every typed property through its options builder; a rejected value is an error on that property. */
    @Override
    public void validate(Object target, Errors errors) {
        PgBridgeProperties p = (PgBridgeProperties) target;
        if (!p.enabled) {
            return;
        }
        p.pipeline.applyTo(PipelineOptions.builder(), reporter(errors, "pipeline"));
        p.notify.applyTo(NotifyOptions.builder(), reporter(errors, "notify"));
        p.wal.applyTo(WalOptions.builder(), reporter(errors, "wal"));
        p.outbox.applyTo(OutboxOptions.builder(), reporter(errors, "outbox"));
        for (int i = 0; i < p.routes.size(); i++) {
            if (!p.routes.get(i).contains("->")) {
                errors.rejectValue(
                        "routes[" + i + "]",
                        "pgbridge.route",
                        "a route is channel->kind:name, such as orders->exchange:amq.topic, not '" + p.routes.get(i)
                                + "'");
            }
        }
    }

    private static Options.Reporter reporter(Errors errors, String group) {
        return (property, e) -> errors.rejectValue(group + "." + property, "pgbridge.option", e.getMessage());
    }

    /** One typed property: sets it on the options builder when present, reporting a rejection under its name. */
    static final class Options {
        interface Reporter {
            void rejected(String property, IllegalArgumentException e);
        }

        static final Reporter THROW = (property, e) -> {
            throw e;
        };

        private Options() {}

        static <T> void set(Reporter reporter, String property, T value, Consumer<T> setter) {
            if (value == null) {
                return;
            }
            try {
                setter.accept(value);
            } catch (IllegalArgumentException e) {
                reporter.rejected(property, e);
            }
        }
    }

    /** {@code pgbridge.postgres.*}: the database the bridge reads. */
    public static class Postgres {
        /**
         * postgresql://user:password@host:5432/database or a jdbc:postgresql: URL; default: * spring.datasource.url.
         */
        private String uri;

        /** The user, when not in the URI; default: spring.datasource.username when the URI is taken from there. */
        private String user;

        /** The password, when not in the URI; default: spring.datasource.password likewise. */
        private String password;

        public String getUri() {
            return uri;
        }

        public void setUri(String uri) {
            this.uri = uri;
        }

        public String getUser() {
            return user;
        }

        public void setUser(String user) {
            this.user = user;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        @Override
        public String toString() {
            return "Postgres{uri set=" + (uri != null) + ", user=" + user + '}';
        }
    }

    /** {@code pgbridge.pipeline.*}: {@link PipelineOptions}. */
    public static class Pipeline {
        /** Most events in flight, 1 to 10,000,000; default 10,000. */
        private Integer bufferMaxEvents;

        /** Most payload bytes in flight (estimated heap), at least 1024; default 64 MiB. */
        private Long bufferMaxBytes;

        /** Threads publishing to sinks, 1 to 256; default 4. */
        private Integer deliveryThreads;

        /** Most events per publish call, 1 to 100,000; default 500. */
        private Integer maxBatchSize;

        /** Most batches of a route a pipelining sink (RabbitMQ, MQTT, Redis) has in flight, 1 to 64; default 4. */
        private Integer maxBatchesInFlight;

        /** One event in flight per route; default false. */
        private Boolean strictOrder;

        /** The first retry wait, 1 ms to 1 h; default 100 ms. */
        private Duration retryInitialBackoff;

        /** The longest retry wait, 1 ms to 1 h; default 30 s. */
        private Duration retryMaxBackoff;

        /** How long stopping waits for in-flight events to be confirmed, 0 to 1 h; default 30 s. */
        private Duration shutdownTimeout;

        void applyTo(PipelineOptions.Builder b, Options.Reporter r) {
            Options.set(r, "buffer-max-events", bufferMaxEvents, b::bufferMaxEvents);
            Options.set(r, "buffer-max-bytes", bufferMaxBytes, b::bufferMaxBytes);
            Options.set(r, "delivery-threads", deliveryThreads, b::deliveryThreads);
            Options.set(r, "max-batch-size", maxBatchSize, b::maxBatchSize);
            Options.set(r, "max-batches-in-flight", maxBatchesInFlight, b::maxBatchesInFlight);
            Options.set(r, "strict-order", strictOrder, b::strictOrder);
            if (retryInitialBackoff != null || retryMaxBackoff != null) {
                Duration initial = retryInitialBackoff != null
                        ? retryInitialBackoff
                        : PipelineOptions.DEFAULT_RETRY_INITIAL_BACKOFF;
                Duration max = retryMaxBackoff != null ? retryMaxBackoff : PipelineOptions.DEFAULT_RETRY_MAX_BACKOFF;
                Options.set(
                        r,
                        retryInitialBackoff != null ? "retry-initial-backoff" : "retry-max-backoff",
                        initial,
                        i -> b.retryBackoff(i, max));
            }
            Options.set(r, "shutdown-timeout", shutdownTimeout, b::shutdownTimeout);
        }

        /** The drain timeout in effect: the property, else the default. */
        Duration effectiveShutdownTimeout() {
            return shutdownTimeout != null ? shutdownTimeout : PipelineOptions.DEFAULT_SHUTDOWN_TIMEOUT;
        }

        public Integer getBufferMaxEvents() {
            return bufferMaxEvents;
        }

        public void setBufferMaxEvents(Integer bufferMaxEvents) {
            this.bufferMaxEvents = bufferMaxEvents;
        }

        public Long getBufferMaxBytes() {
            return bufferMaxBytes;
        }

        public void setBufferMaxBytes(Long bufferMaxBytes) {
            this.bufferMaxBytes = bufferMaxBytes;
        }

        public Integer getDeliveryThreads() {
            return deliveryThreads;
        }

        public void setDeliveryThreads(Integer deliveryThreads) {
            this.deliveryThreads = deliveryThreads;
        }

        public Integer getMaxBatchSize() {
            return maxBatchSize;
        }

        public void setMaxBatchSize(Integer maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
        }

        public Integer getMaxBatchesInFlight() {
            return maxBatchesInFlight;
        }

        public void setMaxBatchesInFlight(Integer maxBatchesInFlight) {
            this.maxBatchesInFlight = maxBatchesInFlight;
        }

        public Boolean getStrictOrder() {
            return strictOrder;
        }

        public void setStrictOrder(Boolean strictOrder) {
            this.strictOrder = strictOrder;
        }

        public Duration getRetryInitialBackoff() {
            return retryInitialBackoff;
        }

        public void setRetryInitialBackoff(Duration retryInitialBackoff) {
            this.retryInitialBackoff = retryInitialBackoff;
        }

        public Duration getRetryMaxBackoff() {
            return retryMaxBackoff;
        }

        public void setRetryMaxBackoff(Duration retryMaxBackoff) {
            this.retryMaxBackoff = retryMaxBackoff;
        }

        public Duration getShutdownTimeout() {
            return shutdownTimeout;
        }

        public void setShutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
        }
    }

    /** {@code pgbridge.notify.*}: {@link NotifyOptions} of the NOTIFY source. */
    public static class Notify {
        /** Split routing_key|message payloads into routing key and message; default true. */
        private Boolean routingKeyFromPayload;

        /** One wait for notifications, 10 ms to 1 min; default 500 ms. */
        private Duration pollInterval;

        /** Quiet time before the LISTEN connection is probed, 100 ms to 10 min; default 2 s. */
        private Duration probeInterval;

        /** A probe unanswered this long marks the connection dead, 1 s to 10 min; default 5 s. */
        private Duration probeTimeout;

        /** Longest wait between reconnection attempts, 250 ms to 10 min; default 10 s. */
        private Duration reconnectMaxBackoff;

        /** How long the source waits for room while the pipeline refuses notifications, 0 to 1 min; default 1 s. */
        private Duration maxWait;

        /** The source waits for room only while PostgreSQL's notification queue is less full, 1 to 50; default 10. */
        private Integer maxQueueUsagePercent;

        void applyTo(NotifyOptions.Builder b, Options.Reporter r) {
            Options.set(r, "routing-key-from-payload", routingKeyFromPayload, b::routingKeyFromPayload);
            Options.set(r, "poll-interval", pollInterval, b::pollInterval);
            Options.set(r, "probe-interval", probeInterval, b::probeInterval);
            Options.set(r, "probe-timeout", probeTimeout, b::probeTimeout);
            Options.set(r, "reconnect-max-backoff", reconnectMaxBackoff, b::reconnectMaxBackoff);
            Options.set(r, "max-wait", maxWait, b::maxWait);
            Options.set(r, "max-queue-usage-percent", maxQueueUsagePercent, b::maxQueueUsagePercent);
        }

        public Boolean getRoutingKeyFromPayload() {
            return routingKeyFromPayload;
        }

        public void setRoutingKeyFromPayload(Boolean routingKeyFromPayload) {
            this.routingKeyFromPayload = routingKeyFromPayload;
        }

        public Duration getPollInterval() {
            return pollInterval;
        }

        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        public Duration getProbeInterval() {
            return probeInterval;
        }

        public void setProbeInterval(Duration probeInterval) {
            this.probeInterval = probeInterval;
        }

        public Duration getProbeTimeout() {
            return probeTimeout;
        }

        public void setProbeTimeout(Duration probeTimeout) {
            this.probeTimeout = probeTimeout;
        }

        public Duration getReconnectMaxBackoff() {
            return reconnectMaxBackoff;
        }

        public void setReconnectMaxBackoff(Duration reconnectMaxBackoff) {
            this.reconnectMaxBackoff = reconnectMaxBackoff;
        }

        public Duration getMaxWait() {
            return maxWait;
        }

        public void setMaxWait(Duration maxWait) {
            this.maxWait = maxWait;
        }

        public Integer getMaxQueueUsagePercent() {
            return maxQueueUsagePercent;
        }

        public void setMaxQueueUsagePercent(Integer maxQueueUsagePercent) {
            this.maxQueueUsagePercent = maxQueueUsagePercent;
        }
    }

    /** {@code pgbridge.wal.*}: {@link WalOptions} of the logical replication source. */
    public static class Wal {
        /** The replication slot, lower-case letters, digits and _; created when missing; default pgbridge. */
        private String slot;

        /** Use a temporary slot (gone with the connection: events in between are lost); default false. */
        private Boolean temporarySlot;

        /** pgoutput (default) or wal2json. */
        private String outputPlugin;

        /** pgoutput's publication; default: the slot's name. */
        private String publication;

        /** Replication status updates, 100 ms to 1 h; default 10 s. */
        private Duration statusInterval;

        /** A read inside a transaction waiting this long reconnects, 1 s to 1 h; default 60 s. */
        private Duration readTimeout;

        /** Heartbeats and lag measurements, 0 (off) to 1 h; default 10 s. */
        private Duration heartbeatInterval;

        /** Warn while the slot is this many bytes behind; default 1 GiB. */
        private Long lagWarningBytes;

        /** Longest wait between reconnection attempts, 250 ms to 10 min; default 10 s. */
        private Duration reconnectMaxBackoff;

        /** Whether existing rows are read before streaming; default never. */
        private WalOptions.Snapshot snapshot;

        /** The table of backfill requests taken (pgbridge backfill), schema.table or none; default pgbridge.backfill_requests. */
        private String backfillRequests;

        void applyTo(WalOptions.Builder b, Options.Reporter r) {
            Options.set(r, "slot", slot, b::slot);
            Options.set(r, "temporary-slot", temporarySlot, b::temporarySlot);
            Options.set(r, "output-plugin", outputPlugin, b::outputPlugin);
            Options.set(r, "publication", publication, b::publication);
            Options.set(r, "status-interval", statusInterval, b::statusInterval);
            Options.set(r, "read-timeout", readTimeout, b::readTimeout);
            Options.set(r, "heartbeat-interval", heartbeatInterval, b::heartbeatInterval);
            Options.set(r, "lag-warning-bytes", lagWarningBytes, b::lagWarningBytes);
            Options.set(r, "reconnect-max-backoff", reconnectMaxBackoff, b::reconnectMaxBackoff);
            Options.set(r, "snapshot", snapshot, b::snapshot);
            Options.set(r, "backfill-requests", backfillRequests, b::backfillRequests);
        }

        public String getSlot() {
            return slot;
        }

        public void setSlot(String slot) {
            this.slot = slot;
        }

        public Boolean getTemporarySlot() {
            return temporarySlot;
        }

        public void setTemporarySlot(Boolean temporarySlot) {
            this.temporarySlot = temporarySlot;
        }

        public String getOutputPlugin() {
            return outputPlugin;
        }

        public void setOutputPlugin(String outputPlugin) {
            this.outputPlugin = outputPlugin;
        }

        public String getPublication() {
            return publication;
        }

        public void setPublication(String publication) {
            this.publication = publication;
        }

        public Duration getStatusInterval() {
            return statusInterval;
        }

        public void setStatusInterval(Duration statusInterval) {
            this.statusInterval = statusInterval;
        }

        public Duration getReadTimeout() {
            return readTimeout;
        }

        public void setReadTimeout(Duration readTimeout) {
            this.readTimeout = readTimeout;
        }

        public Duration getHeartbeatInterval() {
            return heartbeatInterval;
        }

        public void setHeartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = heartbeatInterval;
        }

        public Long getLagWarningBytes() {
            return lagWarningBytes;
        }

        public void setLagWarningBytes(Long lagWarningBytes) {
            this.lagWarningBytes = lagWarningBytes;
        }

        public Duration getReconnectMaxBackoff() {
            return reconnectMaxBackoff;
        }

        public void setReconnectMaxBackoff(Duration reconnectMaxBackoff) {
            this.reconnectMaxBackoff = reconnectMaxBackoff;
        }

        public WalOptions.Snapshot getSnapshot() {
            return snapshot;
        }

        public void setSnapshot(WalOptions.Snapshot snapshot) {
            this.snapshot = snapshot;
        }

        public String getBackfillRequests() {
            return backfillRequests;
        }

        public void setBackfillRequests(String backfillRequests) {
            this.backfillRequests = backfillRequests;
        }
    }

    /** {@code pgbridge.outbox.*}: {@link OutboxOptions} of the outbox source, and the schema's installation. */
    public static class Outbox {
        /**
         * Install or upgrade the outbox schema (PgBridgeSchema.migrate, its own Flyway history table in the schema)
         * when the outbox source runs and pgbridge-sql is on the class path: through the application's Flyway, before
         * its own migrations, when it has one; else through the application's DataSource before the bridge starts.
         */
        private boolean installSchema = true;

        /** The outbox schema, as installed; default pgbridge. */
        private String schema;

        /** polling (default; several instances share the work) or streaming (logical replication, commit order). */
        private OutboxOptions.Mode mode;

        /** Streaming mode: the replication slot. */
        private String slot;

        /** Streaming mode: the publication; default: the slot's name. */
        private String publication;

        /** The stream read; default 1. */
        private Long streamId;

        /** Polling mode: the wait between empty polls; default 1 s. */
        private Duration pollInterval;

        /** Events per poll or replay batch; default 500. */
        private Integer batchSize;

        /** Polling mode: how long a claimed batch belongs to this instance; default 30 s. */
        private Duration lease;

        /** Daily partitions created ahead; default 3. */
        private Integer partitionsAheadDays;

        /** Days after which delivered partitions are dropped; default 7. */
        private Integer retentionDays;

        /** Partition maintenance interval; default 1 h. */
        private Duration maintenanceInterval;

        /** Events refused for good go to the dead_letters table; default true. */
        private Boolean deadLetterTable;

        /** Longest wait between reconnection attempts; default 10 s. */
        private Duration reconnectMaxBackoff;

        /** Streaming mode: events unconfirmed this long after a sink outage are replayed from the table; default 30 s. */
        private Duration replayAfter;

        void applyTo(OutboxOptions.Builder b, Options.Reporter r) {
            Options.set(r, "schema", schema, b::schema);
            Options.set(r, "mode", mode, b::mode);
            Options.set(r, "slot", slot, b::slot);
            Options.set(r, "publication", publication, b::publication);
            Options.set(r, "stream-id", streamId, b::streamId);
            Options.set(r, "poll-interval", pollInterval, b::pollInterval);
            Options.set(r, "batch-size", batchSize, b::batchSize);
            Options.set(r, "lease", lease, b::lease);
            Options.set(r, "partitions-ahead-days", partitionsAheadDays, b::partitionsAheadDays);
            Options.set(r, "retention-days", retentionDays, b::retentionDays);
            Options.set(r, "maintenance-interval", maintenanceInterval, b::maintenanceInterval);
            Options.set(r, "dead-letter-table", deadLetterTable, b::deadLetterTable);
            Options.set(r, "reconnect-max-backoff", reconnectMaxBackoff, b::reconnectMaxBackoff);
            Options.set(r, "replay-after", replayAfter, b::replayAfter);
        }

        /** The schema in effect: the property, else {@link OutboxOptions#DEFAULT_SCHEMA}. */
        String effectiveSchema() {
            return schema != null ? schema : OutboxOptions.DEFAULT_SCHEMA;
        }

        /** The stream in effect: the property, else {@link OutboxOptions#DEFAULT_STREAM_ID}. */
        long effectiveStreamId() {
            return streamId != null ? streamId : OutboxOptions.DEFAULT_STREAM_ID;
        }

        public boolean isInstallSchema() {
            return installSchema;
        }

        public void setInstallSchema(boolean installSchema) {
            this.installSchema = installSchema;
        }

        public String getSchema() {
            return schema;
        }

        public void setSchema(String schema) {
            this.schema = schema;
        }

        public OutboxOptions.Mode getMode() {
            return mode;
        }

        public void setMode(OutboxOptions.Mode mode) {
            this.mode = mode;
        }

        public String getSlot() {
            return slot;
        }

        public void setSlot(String slot) {
            this.slot = slot;
        }

        public String getPublication() {
            return publication;
        }

        public void setPublication(String publication) {
            this.publication = publication;
        }

        public Long getStreamId() {
            return streamId;
        }

        public void setStreamId(Long streamId) {
            this.streamId = streamId;
        }

        public Duration getPollInterval() {
            return pollInterval;
        }

        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        public Integer getBatchSize() {
            return batchSize;
        }

        public void setBatchSize(Integer batchSize) {
            this.batchSize = batchSize;
        }

        public Duration getLease() {
            return lease;
        }

        public void setLease(Duration lease) {
            this.lease = lease;
        }

        public Integer getPartitionsAheadDays() {
            return partitionsAheadDays;
        }

        public void setPartitionsAheadDays(Integer partitionsAheadDays) {
            this.partitionsAheadDays = partitionsAheadDays;
        }

        public Integer getRetentionDays() {
            return retentionDays;
        }

        public void setRetentionDays(Integer retentionDays) {
            this.retentionDays = retentionDays;
        }

        public Duration getMaintenanceInterval() {
            return maintenanceInterval;
        }

        public void setMaintenanceInterval(Duration maintenanceInterval) {
            this.maintenanceInterval = maintenanceInterval;
        }

        public Boolean getDeadLetterTable() {
            return deadLetterTable;
        }

        public void setDeadLetterTable(Boolean deadLetterTable) {
            this.deadLetterTable = deadLetterTable;
        }

        public Duration getReconnectMaxBackoff() {
            return reconnectMaxBackoff;
        }

        public void setReconnectMaxBackoff(Duration reconnectMaxBackoff) {
            this.reconnectMaxBackoff = reconnectMaxBackoff;
        }

        public Duration getReplayAfter() {
            return replayAfter;
        }

        public void setReplayAfter(Duration replayAfter) {
            this.replayAfter = replayAfter;
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public Postgres getPostgres() {
        return postgres;
    }

    public String getUpstream() {
        return upstream;
    }

    public void setUpstream(String upstream) {
        this.upstream = upstream;
    }

    public List<String> getRoutes() {
        return routes;
    }

    public void setRoutes(List<String> routes) {
        this.routes = routes;
    }

    public List<String> getSources() {
        return sources;
    }

    public void setSources(List<String> sources) {
        this.sources = sources;
    }

    public Map<String, String> getSettings() {
        return settings;
    }

    public void setSettings(Map<String, String> settings) {
        this.settings = settings;
    }

    public Pipeline getPipeline() {
        return pipeline;
    }

    public Notify getNotify() {
        return notify;
    }

    public Wal getWal() {
        return wal;
    }

    public Outbox getOutbox() {
        return outbox;
    }

    /** Whether the outbox source is selected ({@code pgbridge.sources} holds {@code outbox}). */
    boolean runsOutbox() {
        return sources.stream().anyMatch(s -> s.trim().equalsIgnoreCase("outbox"));
    }
}
