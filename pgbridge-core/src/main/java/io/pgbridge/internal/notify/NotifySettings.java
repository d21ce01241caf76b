package io.pgbridge.internal.notify;

import io.pgbridge.NotifyOptions;
import io.pgbridge.spi.Setting;
import java.util.List;

/** The settings of the NOTIFY source. */
public final class NotifySettings {
    public static final Setting ROUTING_KEY_FROM_PAYLOAD = Setting.bool(
            "notify.routing-key-from-payload",
            "Split 'routing_key|message' payloads into a routing key and the message (the seed's convention)",
            NotifyOptions.DEFAULT_ROUTING_KEY_FROM_PAYLOAD);
    public static final Setting POLL_INTERVAL = Setting.durationMs(
            "notify.poll-interval-ms",
            "How long one wait for notifications lasts; also how quickly the source notices a stop",
            NotifyOptions.DEFAULT_POLL_INTERVAL.toMillis(),
            10,
            60_000);
    public static final Setting PROBE_INTERVAL = Setting.durationMs(
            "notify.probe-interval-ms",
            "After this long without traffic the LISTEN connection is probed with a query, to find dead connections",
            NotifyOptions.DEFAULT_PROBE_INTERVAL.toMillis(),
            100,
            600_000);
    public static final Setting PROBE_TIMEOUT = Setting.durationMs(
            "notify.probe-timeout-ms",
            "A probe that gets no answer in this time marks the connection dead (a half-open socket)",
            NotifyOptions.DEFAULT_PROBE_TIMEOUT.toMillis(),
            1_000,
            600_000);
    public static final Setting RECONNECT_MAX_BACKOFF = Setting.durationMs(
            "notify.reconnect-max-backoff-ms",
            "The longest wait between two reconnection attempts (starts at 250 ms and doubles)",
            NotifyOptions.DEFAULT_RECONNECT_MAX_BACKOFF.toMillis(),
            250,
            600_000);
    public static final Setting MAX_WAIT = Setting.durationMs(
            "notify.max-wait-ms",
            "How long the source waits for room while the pipeline refuses notifications in a row, before it drops"
                    + " them (0: drop at once); meanwhile they wait in PostgreSQL's notification queue",
            NotifyOptions.DEFAULT_MAX_WAIT.toMillis(),
            0,
            60_000);
    public static final Setting MAX_QUEUE_USAGE = Setting.integer(
            "notify.max-queue-usage-percent",
            "The source waits for room in the pipeline only while PostgreSQL's notification queue is less full than"
                    + " this (pg_notification_queue_usage(), in percent)",
            NotifyOptions.DEFAULT_MAX_QUEUE_USAGE_PERCENT,
            1,
            50);

    public static final List<Setting> ALL = List.of(
            ROUTING_KEY_FROM_PAYLOAD,
            POLL_INTERVAL,
            PROBE_INTERVAL,
            PROBE_TIMEOUT,
            RECONNECT_MAX_BACKOFF,
            MAX_WAIT,
            MAX_QUEUE_USAGE);

    private NotifySettings() {}
}
