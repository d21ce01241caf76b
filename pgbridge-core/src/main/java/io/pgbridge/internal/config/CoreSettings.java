package io.pgbridge.internal.config;

import io.pgbridge.PipelineOptions;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.UpstreamSettings;
import java.util.List;

/** The settings the core reads itself. Sources and sinks declare their own through their providers. */
public final class CoreSettings {
    public static final Setting BRIDGE_NAME = Setting.string(
                    "bridge.name",
                    "The bridge's name: the bridge tag of every meter it records, so that several bridges can share one"
                            + " Micrometer registry (each needs a name of its own there)")
            .withDefault("pgbridge");
    public static final Setting POSTGRESQL_URI = Setting.string(
                    "postgresql.uri",
                    "The database: postgresql://user:password@host:5432/database or a jdbc:postgresql: URL")
            .withAliases("PGPROXY_LOCAL-POSTGRESQL_URI");
    public static final Setting POSTGRESQL_USER =
            Setting.string("postgresql.user", "Database user, when not in the URI");
    public static final Setting POSTGRESQL_PASSWORD =
            Setting.secret("postgresql.password", "Database password, when not in the URI");
    public static final Setting POSTGRESQL_APPLICATION_NAME = Setting.string(
                    "postgresql.application-name",
                    "application_name of pgbridge's connections, as pg_stat_activity shows it")
            .withDefault("pgbridge");
    public static final Setting UPSTREAM = Setting.string(
                    "upstream",
                    "The sink provider by name (amqp, mqtt, redis, logging, memory, ...); default: the "
                            + "provider of the upstream URI's scheme, or logging when there is no URI")
            .withAliases("PGPROXY_LOCAL-UPSTREAM");
    public static final Setting UPSTREAM_URI = UpstreamSettings.URI;
    public static final Setting UPSTREAM_USERNAME = UpstreamSettings.USERNAME;
    public static final Setting UPSTREAM_PASSWORD = UpstreamSettings.PASSWORD;
    public static final Setting SINKS = Setting.string(
            "sinks",
            "Named sinks, comma-separated (rabbit,hooks); each is configured under sink.<name>. (PGBRIDGE_SINK_<NAME>_URI,"
                    + " PGBRIDGE_SINK_<NAME>_<SETTING>) and routes pick one as channel->name/kind:target");
    public static final Setting BRIDGE_CHANNELS = Setting.string(
                    "bridge.channels", "Routes: channel->kind:name, ... (the seed's BRIDGE_CHANNELS syntax)")
            .withAliases("PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS", "PGPROXY_LOCAL-BRIDGE_CHANNELS");
    public static final Setting SOURCES = Setting.string(
            "sources",
            "Sources to run, comma-separated (notify, wal, outbox); default: notify when a plain channel is routed, "
                    + "wal when a schema.table channel or the wal2json channel is routed");
    public static final Setting BUFFER_MAX_EVENTS = Setting.integer(
            "buffer.max-events",
            "Most events in flight between sources and sink confirmations",
            PipelineOptions.DEFAULT_BUFFER_MAX_EVENTS,
            1,
            10_000_000);
    public static final Setting BUFFER_MAX_BYTES = Setting.integer(
            "buffer.max-bytes",
            "Most payload bytes in flight between sources and sink confirmations",
            PipelineOptions.DEFAULT_BUFFER_MAX_BYTES,
            1024,
            Long.MAX_VALUE);
    public static final Setting DELIVERY_THREADS = Setting.integer(
            "delivery.threads", "Threads that publish to sinks", PipelineOptions.DEFAULT_DELIVERY_THREADS, 1, 256);
    public static final Setting DELIVERY_MAX_BATCH = Setting.integer(
            "delivery.max-batch",
            "Most events handed to a sink in one publish call, which are all in flight at once on their route; a sink"
                    + " that pipelines (RabbitMQ, MQTT, Redis) has up to delivery.max-batches-in-flight such batches of"
                    + " a route in flight",
            PipelineOptions.DEFAULT_MAX_BATCH_SIZE,
            1,
            100_000);
    public static final Setting DELIVERY_MAX_BATCHES_IN_FLIGHT = Setting.integer(
            "delivery.max-batches-in-flight",
            "Most batches of a route a sink that pipelines (RabbitMQ, MQTT, Redis) has in flight at once (1: the next"
                    + " batch only once the one before was decided); with one event in flight per route"
                    + " (delivery.max-batch 1, as strict order sets) it is 1, and another value set is an error",
            PipelineOptions.DEFAULT_MAX_BATCHES_IN_FLIGHT,
            1,
            64);
    public static final Setting DELIVERY_STRICT_ORDER = Setting.bool(
            "delivery.strict-order",
            "One event in flight per route (a batch of 1): no event is published while an earlier one of its route is"
                    + " unconfirmed, so even after a refusal no copy of a later event precedes an earlier one; costs"
                    + " throughput (a broker round trip per event)",
            false);
    public static final Setting RETRY_INITIAL_BACKOFF = Setting.durationMs(
            "retry.initial-backoff-ms",
            "First wait before retrying a failed delivery; doubles per attempt",
            PipelineOptions.DEFAULT_RETRY_INITIAL_BACKOFF.toMillis(),
            1,
            3_600_000);
    public static final Setting RETRY_MAX_BACKOFF = Setting.durationMs(
            "retry.max-backoff-ms",
            "Longest wait between delivery retries",
            PipelineOptions.DEFAULT_RETRY_MAX_BACKOFF.toMillis(),
            1,
            3_600_000);
    public static final Setting DEAD_LETTER_TARGET = Setting.string(
            "dead-letter.target",
            "Where on a route's own sink an event goes that the sink refused for good, as kind:name (for example "
                    + "queue:pgbridge.dead-letters); without it (and without the outbox's dead-letter table or a "
                    + "handler in code) such an event halts its route, except for NOTIFY, which logs and drops it");
    public static final Setting SHUTDOWN_TIMEOUT = Setting.durationMs(
            "shutdown.timeout-ms",
            "How long close() waits for in-flight events to be confirmed",
            PipelineOptions.DEFAULT_SHUTDOWN_TIMEOUT.toMillis(),
            0,
            3_600_000);
    public static final Setting HEALTH_LAG_THRESHOLD = Setting.integer(
            "health.lag-threshold-bytes",
            "PgBridge.health() reports a source not ready while its replication slot is more than this many bytes"
                    + " behind the server's WAL (pg_current_wal_lsn() - confirmed_flush_lsn)",
            1024L * 1024 * 1024,
            1,
            Long.MAX_VALUE);

    public static final List<Setting> ALL = List.of(
            BRIDGE_NAME,
            POSTGRESQL_URI,
            POSTGRESQL_USER,
            POSTGRESQL_PASSWORD,
            POSTGRESQL_APPLICATION_NAME,
            UPSTREAM,
            UPSTREAM_URI,
            UPSTREAM_USERNAME,
            UPSTREAM_PASSWORD,
            SINKS,
            BRIDGE_CHANNELS,
            SOURCES,
            BUFFER_MAX_EVENTS,
            BUFFER_MAX_BYTES,
            DELIVERY_THREADS,
            DELIVERY_MAX_BATCH,
            DELIVERY_MAX_BATCHES_IN_FLIGHT,
            DELIVERY_STRICT_ORDER,
            RETRY_INITIAL_BACKOFF,
            RETRY_MAX_BACKOFF,
            DEAD_LETTER_TARGET,
            SHUTDOWN_TIMEOUT,
            HEALTH_LAG_THRESHOLD);

    private CoreSettings() {}
}
