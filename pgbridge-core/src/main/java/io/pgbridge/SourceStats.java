package io.pgbridge;

import java.time.Instant;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One source at one moment, from {@link PgBridge.Stats#sources()}. Immutable.
 *
 * @param name the source's name ({@code notify}, {@code wal}, {@code outbox}, ...)
 * @param guarantee what the source promises
 * @param state reading, reconnecting, failed, ...
 * @param since when it entered that state
 * @param reason why it reconnects or fails, {@code null} otherwise; never contains a password
 * @param received events it handed over since the start
 * @param dropped events it discarded since the start (at-most-once sources only: NOTIFY while the pipeline is full)
 * @param unsettled events it handed over that are not yet confirmed by every route (or taken by a failure policy)
 * @param lagBytes how far behind the database it is, where it measures that (see {@link PgBridge.Stats#sourceLagBytes})
 * @param warning a condition an operator should act on while the source keeps reading (the outbox: partitions older
 *     than the retention kept because they hold events not delivered yet, and why), {@code null} when there is none;
 *     never contains a password
 */
public record SourceStats(
        String name,
        DeliveryGuarantee guarantee,
        SourceState state,
        Instant since,
        String reason,
        long received,
        long dropped,
        int unsettled,
        OptionalLong lagBytes,
        String warning) {
    public SourceStats {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(guarantee, "guarantee");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(lagBytes, "lagBytes");
    }
}
