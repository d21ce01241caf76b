package io.pgbridge.internal.pipeline;

import java.util.concurrent.atomic.LongAdder;

/** Counters the pipeline keeps; read through {@code PgBridge.stats()}. Thread-safe. */
public final class PipelineStats {
    private final LongAdder received = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder deadLettered = new LongAdder();
    private final LongAdder unrouted = new LongAdder();

    void onReceived() {
        received.increment();
    }

    void onDelivered(int count) {
        delivered.add(count);
    }

    void onRetry() {
        retries.increment();
    }

    void onDeadLetter() {
        deadLettered.increment();
    }

    void onUnrouted() {
        unrouted.increment();
    }

    public long received() {
        return received.sum();
    }

    public long delivered() {
        return delivered.sum();
    }

    public long retries() {
        return retries.sum();
    }

    public long deadLettered() {
        return deadLettered.sum();
    }

    public long unrouted() {
        return unrouted.sum();
    }
}
