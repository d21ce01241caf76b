package io.pgbridge;

import io.pgbridge.internal.config.CoreSettings;
import io.pgbridge.internal.config.Ranges;
import java.time.Duration;
import java.util.Objects;

/**
 * How the pipeline between sources and sinks works: its memory bound, delivery threads, batches, retry backoff and
 * shutdown wait. Immutable and thread-safe.
 *
 * <pre>{@code
 * PgBridge.builder().pipeline(p -> p.deliveryThreads(8).retryBackoff(Duration.ofMillis(200), Duration.ofMinutes(1)))
 * }</pre>
 *
 * <p>Each option has a string key as well ({@code delivery.threads}, {@code PGBRIDGE_DELIVERY_THREADS}); a value set
 * in code wins over the string setting. The builder's setters throw {@link IllegalArgumentException} for a value out
 * of range, which {@code PgBridge.Builder.build()} reports as a configuration problem.
 */
public final class PipelineOptions {
    /** {@code buffer.max-events}: most events in flight between sources and sink confirmations. */
    public static final int DEFAULT_BUFFER_MAX_EVENTS = 10_000;
    /** {@code buffer.max-bytes}: most estimated heap bytes of in-flight payloads, 64 MiB. */
    public static final long DEFAULT_BUFFER_MAX_BYTES = 64L * 1024 * 1024;
    /** {@code delivery.threads}: threads that publish to sinks. */
    public static final int DEFAULT_DELIVERY_THREADS = 4;
    /** {@code delivery.max-batch}: most events per publish call. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 500;
    /**
     * {@code delivery.max-batches-in-flight}: most batches of a route a pipelining sink has in flight at once; enough to
     * keep a broker that confirms a batch after a round trip (and an fsync) busy meanwhile, as a bare client loop with
     * about 2,000 messages unconfirmed does.
     */
    public static final int DEFAULT_MAX_BATCHES_IN_FLIGHT = 4;
    /** {@code retry.initial-backoff-ms}: first wait before a retry; doubles per attempt. */
    public static final Duration DEFAULT_RETRY_INITIAL_BACKOFF = Duration.ofMillis(100);
    /** {@code retry.max-backoff-ms}: longest wait between retries. */
    public static final Duration DEFAULT_RETRY_MAX_BACKOFF = Duration.ofSeconds(30);
    /** {@code shutdown.timeout-ms}: how long {@link PgBridge#close()} waits for in-flight events. */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

    private static final PipelineOptions DEFAULTS = builder().build();

    private final int bufferMaxEvents;
    private final long bufferMaxBytes;
    private final int deliveryThreads;
    private final Integer maxBatchSize;
    private final Integer maxBatchesInFlight;
    private final boolean strictOrder;
    private final Duration retryInitialBackoff;
    private final Duration retryMaxBackoff;
    private final Duration shutdownTimeout;

    private PipelineOptions(Builder b) {
        this.bufferMaxEvents = b.bufferMaxEvents;
        this.bufferMaxBytes = b.bufferMaxBytes;
        this.deliveryThreads = b.deliveryThreads;
        this.maxBatchSize = b.maxBatchSize;
        this.maxBatchesInFlight = b.maxBatchesInFlight;
        this.strictOrder = b.strictOrder;
        this.retryInitialBackoff = b.retryInitialBackoff;
        this.retryMaxBackoff = b.retryMaxBackoff;
        this.shutdownTimeout = b.shutdownTimeout;
    }

    /** The defaults: every {@code DEFAULT_*} constant. */
    public static PipelineOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.bufferMaxEvents = bufferMaxEvents;
        b.bufferMaxBytes = bufferMaxBytes;
        b.deliveryThreads = deliveryThreads;
        b.maxBatchSize = maxBatchSize;
        b.maxBatchesInFlight = maxBatchesInFlight;
        b.strictOrder = strictOrder;
        b.retryInitialBackoff = retryInitialBackoff;
        b.retryMaxBackoff = retryMaxBackoff;
        b.shutdownTimeout = shutdownTimeout;
        return b;
    }

    public int bufferMaxEvents() {
        return bufferMaxEvents;
    }

    /** Estimated heap bytes. */
    public long bufferMaxBytes() {
        return bufferMaxBytes;
    }

    public int deliveryThreads() {
        return deliveryThreads;
    }

    /** The most events per publish call: as set, else {@link #DEFAULT_MAX_BATCH_SIZE}. */
    public int maxBatchSize() {
        return maxBatchSize != null ? maxBatchSize : DEFAULT_MAX_BATCH_SIZE;
    }

    /** Whether {@link #maxBatchSize()} was set rather than defaulted (a set size other than 1 contradicts strict order). */
    public boolean isMaxBatchSizeSet() {
        return maxBatchSize != null;
    }

    /**
     * The most batches of a route a sink that pipelines ({@code Sink.publishAsync}) has in flight at once: as set, else
     * {@link #DEFAULT_MAX_BATCHES_IN_FLIGHT}. A route with one event in flight (a {@link #maxBatchSize()} of 1, as
     * strict order sets) has one batch in flight whatever this says.
     */
    public int maxBatchesInFlight() {
        return maxBatchesInFlight != null ? maxBatchesInFlight : DEFAULT_MAX_BATCHES_IN_FLIGHT;
    }

    /**
     * Whether {@link #maxBatchesInFlight()} was set rather than defaulted (a set value other than 1 contradicts one event
     * in flight per route).
     */
    public boolean isMaxBatchesInFlightSet() {
        return maxBatchesInFlight != null;
    }

    public boolean strictOrder() {
        return strictOrder;
    }

    public Duration retryInitialBackoff() {
        return retryInitialBackoff;
    }

    public Duration retryMaxBackoff() {
        return retryMaxBackoff;
    }

    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    @Override
    public String toString() {
        return "PipelineOptions{bufferMaxEvents=" + bufferMaxEvents + ", bufferMaxBytes=" + bufferMaxBytes
                + ", deliveryThreads=" + deliveryThreads + ", maxBatchSize=" + maxBatchSize() + ", maxBatchesInFlight="
                + maxBatchesInFlight() + ", strictOrder=" + strictOrder + ", retryBackoff="
                + retryInitialBackoff.toMillis() + ".." + retryMaxBackoff.toMillis()
                + "ms, shutdownTimeout=" + shutdownTimeout.toMillis() + "ms}";
    }

    /** Collects pipeline options; not thread-safe. */
    public static final class Builder {
        private int bufferMaxEvents = DEFAULT_BUFFER_MAX_EVENTS;
        private long bufferMaxBytes = DEFAULT_BUFFER_MAX_BYTES;
        private int deliveryThreads = DEFAULT_DELIVERY_THREADS;
        private Integer maxBatchSize;
        private Integer maxBatchesInFlight;
        private boolean strictOrder;
        private Duration retryInitialBackoff = DEFAULT_RETRY_INITIAL_BACKOFF;
        private Duration retryMaxBackoff = DEFAULT_RETRY_MAX_BACKOFF;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;

        private Builder() {}

        /** Most events in flight, 1 to 10,000,000; default {@link #DEFAULT_BUFFER_MAX_EVENTS}. */
        public Builder bufferMaxEvents(int events) {
            this.bufferMaxEvents = (int) Ranges.check(CoreSettings.BUFFER_MAX_EVENTS, "bufferMaxEvents", events);
            return this;
        }

        /** Most payload bytes in flight (estimated heap), at least 1024; default {@link #DEFAULT_BUFFER_MAX_BYTES}. */
        public Builder bufferMaxBytes(long bytes) {
            this.bufferMaxBytes = Ranges.check(CoreSettings.BUFFER_MAX_BYTES, "bufferMaxBytes", bytes);
            return this;
        }

        /** Threads publishing to sinks, 1 to 256; default {@link #DEFAULT_DELIVERY_THREADS}. */
        public Builder deliveryThreads(int threads) {
            this.deliveryThreads = (int) Ranges.check(CoreSettings.DELIVERY_THREADS, "deliveryThreads", threads);
            return this;
        }

        /**
         * Most events per publish call, all of which are in flight at once on their route, 1 to 100,000; default
         * {@link #DEFAULT_MAX_BATCH_SIZE}. See {@link #strictOrder(boolean)} for one event in flight.
         */
        public Builder maxBatchSize(int events) {
            this.maxBatchSize = (int) Ranges.check(CoreSettings.DELIVERY_MAX_BATCH, "maxBatchSize", events);
            return this;
        }

        /**
         * Most batches of a route a sink that pipelines ({@code Sink.publishAsync}: RabbitMQ, MQTT, Redis) has in
         * flight at once, 1 to 64; default {@link #DEFAULT_MAX_BATCHES_IN_FLIGHT}. 1 hands it the next batch only once
         * the one before was decided. After a refusal, up to this many times {@link #maxBatchSize} events less one may
         * come again (see {@code docs/sinks.md}). Together with one event in flight per route (a {@link #maxBatchSize}
         * of 1, or {@link #strictOrder(boolean)}), a set value other than 1 is a contradiction that {@code build()}
         * reports.
         */
        public Builder maxBatchesInFlight(int batches) {
            this.maxBatchesInFlight =
                    (int) Ranges.check(CoreSettings.DELIVERY_MAX_BATCHES_IN_FLIGHT, "maxBatchesInFlight", batches);
            return this;
        }

        /**
         * Strict order (default {@code false}): one event in flight per route, so that no event is published while an
         * earlier event of its route is unconfirmed. After a refusal the broker then holds no copy of a later event
         * ahead of the retried one (with batches, the rest of the failed batch may already be there). Costs a broker
         * round trip per event: see {@code docs/sinks.md} for measured figures. Together with a set {@link
         * #maxBatchSize} other than 1, {@code build()} reports the contradiction.
         */
        public Builder strictOrder(boolean strict) {
            this.strictOrder = strict;
            return this;
        }

        /**
         * Retry backoff: the first wait (default {@link #DEFAULT_RETRY_INITIAL_BACKOFF}), doubled per attempt up to
         * {@code max} (default {@link #DEFAULT_RETRY_MAX_BACKOFF}); each 1 ms to 1 h.
         */
        public Builder retryBackoff(Duration initial, Duration max) {
            this.retryInitialBackoff = Ranges.check(CoreSettings.RETRY_INITIAL_BACKOFF, "retryInitialBackoff", initial);
            this.retryMaxBackoff = Ranges.check(CoreSettings.RETRY_MAX_BACKOFF, "retryMaxBackoff", max);
            return this;
        }

        /** How long {@link PgBridge#close()} waits for in-flight events, 0 to 1 h; default 30 s. */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = Ranges.check(CoreSettings.SHUTDOWN_TIMEOUT, "shutdownTimeout", timeout);
            return this;
        }

        public PipelineOptions build() {
            Objects.requireNonNull(retryInitialBackoff);
            return new PipelineOptions(this);
        }
    }
}
