package io.pgbridge;

import io.pgbridge.internal.config.Ranges;
import io.pgbridge.internal.notify.NotifySettings;
import java.time.Duration;

/**
 * Options of the {@code notify} source (LISTEN on the routed channels). Immutable and thread-safe.
 *
 * <pre>{@code
 * PgBridge.builder().notify(n -> n.routingKeyFromPayload(false).pollInterval(Duration.ofMillis(200)))
 * }</pre>
 *
 * <p>String keys: {@code notify.*} ({@code PGBRIDGE_NOTIFY_*}); a value set in code wins over the string setting.
 * Setters throw {@link IllegalArgumentException} for a value out of range.
 */
public final class NotifyOptions {
    /** {@code notify.routing-key-from-payload}: split {@code routing_key|message} payloads (the seed's convention). */
    public static final boolean DEFAULT_ROUTING_KEY_FROM_PAYLOAD = true;
    /** {@code notify.poll-interval-ms}: one wait for notifications; also how quickly a stop is noticed. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(500);
    /** {@code notify.probe-interval-ms}: after this long without traffic the connection is probed. */
    public static final Duration DEFAULT_PROBE_INTERVAL = Duration.ofSeconds(2);
    /** {@code notify.probe-timeout-ms}: a probe unanswered this long marks the connection dead. */
    public static final Duration DEFAULT_PROBE_TIMEOUT = Duration.ofSeconds(5);
    /** {@code notify.reconnect-max-backoff-ms}: longest wait between reconnection attempts (from 250 ms, doubling). */
    public static final Duration DEFAULT_RECONNECT_MAX_BACKOFF = Duration.ofSeconds(10);
    /**
     * {@code notify.max-wait-ms}: how long the source waits for room while the pipeline refuses notifications in a
     * row before it drops them.
     */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(1);
    /**
     * {@code notify.max-queue-usage-percent}: the source waits for room only while PostgreSQL's notification queue is
     * less full than this.
     */
    public static final int DEFAULT_MAX_QUEUE_USAGE_PERCENT = 10;

    private final boolean routingKeyFromPayload;
    private final Duration pollInterval;
    private final Duration probeInterval;
    private final Duration probeTimeout;
    private final Duration reconnectMaxBackoff;
    private final Duration maxWait;
    private final int maxQueueUsagePercent;

    private NotifyOptions(Builder b) {
        this.routingKeyFromPayload = b.routingKeyFromPayload;
        this.pollInterval = b.pollInterval;
        this.probeInterval = b.probeInterval;
        this.probeTimeout = b.probeTimeout;
        this.reconnectMaxBackoff = b.reconnectMaxBackoff;
        this.maxWait = b.maxWait;
        this.maxQueueUsagePercent = b.maxQueueUsagePercent;
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean routingKeyFromPayload() {
        return routingKeyFromPayload;
    }

    public Duration pollInterval() {
        return pollInterval;
    }

    public Duration probeInterval() {
        return probeInterval;
    }

    public Duration probeTimeout() {
        return probeTimeout;
    }

    public Duration reconnectMaxBackoff() {
        return reconnectMaxBackoff;
    }

    public Duration maxWait() {
        return maxWait;
    }

    public int maxQueueUsagePercent() {
        return maxQueueUsagePercent;
    }

    @Override
    public String toString() {
        return "NotifyOptions{routingKeyFromPayload=" + routingKeyFromPayload + ", pollInterval="
                + pollInterval.toMillis() + "ms, probeInterval=" + probeInterval.toMillis() + "ms, probeTimeout="
                + probeTimeout.toMillis() + "ms, reconnectMaxBackoff=" + reconnectMaxBackoff.toMillis() + "ms, maxWait="
                + maxWait.toMillis() + "ms, maxQueueUsagePercent=" + maxQueueUsagePercent + "}";
    }

    /** Collects NOTIFY options; not thread-safe. */
    public static final class Builder {
        private boolean routingKeyFromPayload = DEFAULT_ROUTING_KEY_FROM_PAYLOAD;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private Duration probeInterval = DEFAULT_PROBE_INTERVAL;
        private Duration probeTimeout = DEFAULT_PROBE_TIMEOUT;
        private Duration reconnectMaxBackoff = DEFAULT_RECONNECT_MAX_BACKOFF;
        private Duration maxWait = DEFAULT_MAX_WAIT;
        private int maxQueueUsagePercent = DEFAULT_MAX_QUEUE_USAGE_PERCENT;

        private Builder() {}

        /** Split {@code routing_key|message} payloads into routing key and message; default {@code true}. */
        public Builder routingKeyFromPayload(boolean split) {
            this.routingKeyFromPayload = split;
            return this;
        }

        /** One wait for notifications, 10 ms to 1 min; default 500 ms. */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = Ranges.check(NotifySettings.POLL_INTERVAL, "pollInterval", interval);
            return this;
        }

        /** Quiet time before the LISTEN connection is probed with a query, 100 ms to 10 min; default 2 s. */
        public Builder probeInterval(Duration interval) {
            this.probeInterval = Ranges.check(NotifySettings.PROBE_INTERVAL, "probeInterval", interval);
            return this;
        }

        /** A probe unanswered this long marks the connection dead, 1 s to 10 min; default 5 s. */
        public Builder probeTimeout(Duration timeout) {
            this.probeTimeout = Ranges.check(NotifySettings.PROBE_TIMEOUT, "probeTimeout", timeout);
            return this;
        }

        /** Longest wait between reconnection attempts, 250 ms to 10 min; default 10 s. */
        public Builder reconnectMaxBackoff(Duration max) {
            this.reconnectMaxBackoff = Ranges.check(NotifySettings.RECONNECT_MAX_BACKOFF, "reconnectMaxBackoff", max);
            return this;
        }

        /**
         * How long the source waits for room in a full pipeline while it refuses notifications in a row (since it
         * last took one), 0 to 1 min; default 1 s. Meanwhile notifications wait in PostgreSQL's notification queue;
         * once the wait is over, those that do not fit at once are dropped (counted) until the pipeline takes one
         * again. {@link Duration#ZERO}: drop at once whatever does not fit.
         */
        public Builder maxWait(Duration wait) {
            this.maxWait = Ranges.check(NotifySettings.MAX_WAIT, "maxWait", wait);
            return this;
        }

        /**
         * The source waits for room in the pipeline only while PostgreSQL's notification queue (one per cluster,
         * shared with every application; {@code pg_notification_queue_usage()}, measured over a connection of its own
         * at most once a second while it waits) is less full than this, 1 to 50 percent; default 10. PostgreSQL
         * warns from 50%, and a full queue makes {@code NOTIFY} fail at commit.
         */
        public Builder maxQueueUsagePercent(int percent) {
            this.maxQueueUsagePercent =
                    (int) Ranges.check(NotifySettings.MAX_QUEUE_USAGE, "maxQueueUsagePercent", percent);
            return this;
        }

        public NotifyOptions build() {
            return new NotifyOptions(this);
        }
    }
}
