package io.pgbridge;

import java.util.List;
import java.util.Map;

/**
 * Counters of a running bridge, as {@link PgBridge#stats()} returns them. Immutable snapshot; thread-safe.
 */
public final class BridgeStats {
    private final long received;
    private final long delivered;
    private final long retries;
    private final long deadLettered;
    private final long unrouted;
    private final int inFlightEvents;
    private final long inFlightBytes;
    private final Map<String, Long> sourceLagBytes;
    private final List<RouteStats> routes;
    private final List<SourceStats> sources;
    private final List<BackfillProgress> snapshots;
    private final List<BackfillProgress> backfills;

    BridgeStats(
            long received,
            long delivered,
            long retries,
            long deadLettered,
            long unrouted,
            int inFlightEvents,
            long inFlightBytes,
            Map<String, Long> sourceLagBytes,
            List<RouteStats> routes,
            List<SourceStats> sources,
            List<BackfillProgress> snapshots,
            List<BackfillProgress> backfills) {
        this.received = received;
        this.delivered = delivered;
        this.retries = retries;
        this.deadLettered = deadLettered;
        this.unrouted = unrouted;
        this.inFlightEvents = inFlightEvents;
        this.inFlightBytes = inFlightBytes;
        this.sourceLagBytes = Map.copyOf(sourceLagBytes);
        this.routes = List.copyOf(routes);
        this.sources = List.copyOf(sources);
        this.snapshots = List.copyOf(snapshots);
        this.backfills = List.copyOf(backfills);
    }

    /**
     * The initial snapshots ({@code wal.snapshot}) started or resumed since {@link PgBridge#start()}, running or ended:
     * one per WAL source that takes one, in source order; empty when none does (none configured, or taken already
     * by an earlier run). In each, {@code id} is the slot, {@code table} the table it reads now (the last one once all
     * are read), and rows, chunks, {@code totalRows} (a {@code count(*)} of every routed table in the snapshot),
     * percent and rate cover every routed table; its state is never {@code CANCELLED}.
     */
    public List<BackfillProgress> snapshots() {
        return snapshots;
    }

    /**
     * The online backfills started or resumed since {@link PgBridge#start()}, running or ended
     * ({@link PgBridge#backfill}), by table: rows, chunks, percent and rate; empty when there is none.
     */
    public List<BackfillProgress> backfills() {
        return backfills;
    }

    /**
     * Each route's state (delivering, retrying since, halted), attempts and last error, in route order; empty
     * before {@link #start()}.
     */
    public List<RouteStats> routes() {
        return routes;
    }

    /** Each source's state, guarantee and counters, in start order; empty before {@link #start()}. */
    public List<SourceStats> sources() {
        return sources;
    }

    /** Events sources handed over. */
    public long received() {
        return received;
    }

    /** Route deliveries sinks confirmed (an event on two routes counts twice). */
    public long delivered() {
        return delivered;
    }

    /** Failed delivery attempts (each is retried). */
    public long retries() {
        return retries;
    }

    /** Events a dead-letter destination took. */
    public long deadLettered() {
        return deadLettered;
    }

    /** Events no route took. */
    public long unrouted() {
        return unrouted;
    }

    public int inFlightEvents() {
        return inFlightEvents;
    }

    /** Estimated heap bytes of in-flight events. */
    public long inFlightBytes() {
        return inFlightBytes;
    }

    /**
     * How far each source that measures it is behind the database, in bytes, by source name. For {@code wal}:
     * {@code pg_current_wal_lsn() - confirmed_flush_lsn} of its replication slot (WAL written since the last
     * position every sink confirmed; PostgreSQL retains at least that much for the slot), measured every {@code wal.heartbeat-interval-ms} (absent before the first measurement or when
     * heartbeats are off). Never {@code null}; empty when no source measures lag.
     */
    public Map<String, Long> sourceLagBytes() {
        return sourceLagBytes;
    }

    @Override
    public String toString() {
        return "BridgeStats{received=" + received + ", delivered=" + delivered + ", retries=" + retries
                + ", deadLettered=" + deadLettered + ", unrouted=" + unrouted + ", inFlightEvents="
                + inFlightEvents + ", inFlightBytes=" + inFlightBytes + ", sourceLagBytes=" + sourceLagBytes
                + ", routes=" + routes + ", sources=" + sources + ", snapshots=" + snapshots + ", backfills="
                + backfills
                + '}';
    }
}
