package io.pgbridge.internal.config;

import io.pgbridge.NotifyOptions;
import io.pgbridge.OutboxOptions;
import io.pgbridge.PipelineOptions;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.notify.NotifySettings;
import io.pgbridge.internal.outbox.OutboxSettings;
import io.pgbridge.internal.wal.WalSettings;
import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The one place where string settings (environment, properties file, {@code PgBridge.Builder.setting}) become typed
 * options. Each method checks its settings' types and ranges into {@code problems} and returns a builder holding
 * every valid value that was set, on top of the defaults; typed customizers from code are applied to that builder
 * afterwards, so that a value set in code wins.
 */
public final class OptionsBinder {
    private OptionsBinder() {}

    public static PipelineOptions.Builder pipeline(Settings s, Problems problems) {
        PipelineOptions.Builder b = PipelineOptions.builder();
        Bound bound = new Bound(s, problems, CoreSettings.ALL);
        bound.integer(CoreSettings.BUFFER_MAX_EVENTS, v -> b.bufferMaxEvents((int) v));
        bound.integer(CoreSettings.BUFFER_MAX_BYTES, b::bufferMaxBytes);
        bound.integer(CoreSettings.DELIVERY_THREADS, v -> b.deliveryThreads((int) v));
        bound.integer(CoreSettings.DELIVERY_MAX_BATCH, v -> b.maxBatchSize((int) v));
        bound.integer(CoreSettings.DELIVERY_MAX_BATCHES_IN_FLIGHT, v -> b.maxBatchesInFlight((int) v));
        bound.bool(CoreSettings.DELIVERY_STRICT_ORDER, b::strictOrder);
        if ((bound.valid(CoreSettings.RETRY_INITIAL_BACKOFF) || bound.valid(CoreSettings.RETRY_MAX_BACKOFF))
                && !bound.invalid(CoreSettings.RETRY_INITIAL_BACKOFF)
                && !bound.invalid(CoreSettings.RETRY_MAX_BACKOFF)) {
            b.retryBackoff(s.duration(CoreSettings.RETRY_INITIAL_BACKOFF), s.duration(CoreSettings.RETRY_MAX_BACKOFF));
        }
        bound.duration(CoreSettings.SHUTDOWN_TIMEOUT, b::shutdownTimeout);
        return b;
    }

    public static NotifyOptions.Builder notify(Settings s, Problems problems) {
        NotifyOptions.Builder b = NotifyOptions.builder();
        Bound bound = new Bound(s, problems, NotifySettings.ALL);
        bound.bool(NotifySettings.ROUTING_KEY_FROM_PAYLOAD, b::routingKeyFromPayload);
        bound.duration(NotifySettings.POLL_INTERVAL, b::pollInterval);
        bound.duration(NotifySettings.PROBE_INTERVAL, b::probeInterval);
        bound.duration(NotifySettings.PROBE_TIMEOUT, b::probeTimeout);
        bound.duration(NotifySettings.RECONNECT_MAX_BACKOFF, b::reconnectMaxBackoff);
        bound.duration(NotifySettings.MAX_WAIT, b::maxWait);
        bound.integer(NotifySettings.MAX_QUEUE_USAGE, v -> b.maxQueueUsagePercent((int) v));
        return b;
    }

    public static WalOptions.Builder wal(Settings s, Problems problems) {
        WalOptions.Builder b = WalOptions.builder();
        Bound bound = new Bound(s, problems, WalSettings.ALL);
        bound.string(WalSettings.SLOT, b::slot);
        bound.bool(WalSettings.TEMPORARY_SLOT, b::temporarySlot);
        bound.string(WalSettings.OUTPUT_PLUGIN, b::outputPlugin);
        bound.string(WalSettings.PUBLICATION, b::publication);
        bound.string(WalSettings.WAL2JSON_PARAMS, b::wal2jsonParams);
        bound.duration(WalSettings.STATUS_INTERVAL, b::statusInterval);
        bound.duration(WalSettings.READ_TIMEOUT, b::readTimeout);
        bound.duration(WalSettings.HEARTBEAT_INTERVAL, b::heartbeatInterval);
        bound.integer(WalSettings.LAG_WARNING_BYTES, b::lagWarningBytes);
        bound.duration(WalSettings.RECONNECT_MAX_BACKOFF, b::reconnectMaxBackoff);
        bound.string(WalSettings.SNAPSHOT, text -> {
            WalOptions.Snapshot snapshot = WalOptions.Snapshot.fromText(text);
            if (snapshot != null) {
                b.snapshot(snapshot);
            } else {
                problems.add(WalSettings.SNAPSHOT, text.trim(), "must be never, initial or initial-only");
            }
        });
        bound.string(WalSettings.BACKFILL_REQUESTS, b::backfillRequests);
        return b;
    }

    public static OutboxOptions.Builder outbox(Settings s, Problems problems) {
        OutboxOptions.Builder b = OutboxOptions.builder();
        Bound bound = new Bound(s, problems, OutboxSettings.ALL);
        bound.string(OutboxSettings.SCHEMA, b::schema);
        bound.string(OutboxSettings.MODE, text -> {
            String mode = text.trim().toUpperCase(Locale.ROOT);
            if (mode.equals("POLLING") || mode.equals("STREAMING")) {
                b.mode(OutboxOptions.Mode.valueOf(mode));
            } else {
                problems.add(OutboxSettings.MODE, text.trim(), "must be streaming or polling");
            }
        });
        bound.string(OutboxSettings.SLOT, b::slot);
        bound.string(OutboxSettings.PUBLICATION, b::publication);
        bound.integer(OutboxSettings.STREAM_ID, b::streamId);
        bound.duration(OutboxSettings.POLL_INTERVAL, b::pollInterval);
        bound.integer(OutboxSettings.BATCH_SIZE, v -> b.batchSize((int) v));
        bound.duration(OutboxSettings.LEASE, b::lease);
        bound.integer(OutboxSettings.PARTITIONS_AHEAD, v -> b.partitionsAheadDays((int) v));
        bound.integer(OutboxSettings.RETENTION, v -> b.retentionDays((int) v));
        bound.duration(OutboxSettings.MAINTENANCE_INTERVAL, b::maintenanceInterval);
        bound.bool(OutboxSettings.DEAD_LETTER_TABLE, b::deadLetterTable);
        bound.duration(OutboxSettings.RECONNECT_MAX_BACKOFF, b::reconnectMaxBackoff);
        bound.duration(OutboxSettings.REPLAY_AFTER, b::replayAfter);
        return b;
    }

    /** Applies only values that were set and are valid; the invalid ones are already in the problems. */
    private static final class Bound {
        private final Settings settings;
        private final List<String> invalid;

        Bound(Settings settings, Problems problems, List<Setting> declared) {
            this.settings = settings;
            this.invalid = new ArrayList<>();
            for (Setting d : declared) {
                List<String> own = settings.problems(List.of(d));
                if (!own.isEmpty()) {
                    problems.addAll(own);
                    invalid.add(d.key());
                }
            }
        }

        boolean invalid(Setting s) {
            return invalid.contains(s.key());
        }

        boolean valid(Setting s) {
            return settings.isSet(s) && !invalid.contains(s.key());
        }

        void string(Setting s, Consumer<String> to) {
            if (valid(s)) {
                to.accept(settings.string(s));
            }
        }

        void integer(Setting s, LongSetter to) {
            if (valid(s)) {
                to.set(settings.integer(s));
            }
        }

        void bool(Setting s, Consumer<Boolean> to) {
            if (valid(s)) {
                to.accept(settings.bool(s));
            }
        }

        void duration(Setting s, Consumer<Duration> to) {
            if (valid(s)) {
                to.accept(settings.duration(s));
            }
        }
    }

    private interface LongSetter {
        void set(long value);
    }
}
