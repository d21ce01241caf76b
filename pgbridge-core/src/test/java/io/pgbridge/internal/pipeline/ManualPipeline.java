package io.pgbridge.internal.pipeline;

import io.pgbridge.DeliveryGuarantee;
import io.pgbridge.PipelineOptions;
import io.pgbridge.Route;
import io.pgbridge.spi.DeadLetterHandler;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SourceContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * A pipeline whose lanes run only when a test says so: every lane run and every retry timer is a task the test picks,
 * so that a property test can try any interleaving of deliveries, failures and retries on one thread.
 */
public final class ManualPipeline {
    private final List<Runnable> ready = new ArrayList<>();
    private final List<Runnable> timers = new ArrayList<>();
    private final Pipeline pipeline;

    /**
     * A pipeline with {@link PipelineOptions#DEFAULT_MAX_BATCHES_IN_FLIGHT} batches of a route in flight.
     *
     * @param deadLetters where refused events go for every source, or {@code null} for the default policy (an
     *     at-least-once source's route halts)
     */
    public ManualPipeline(List<Route> routes, Sink sink, DeadLetterHandler deadLetters, int maxBatch, int maxEvents) {
        this(routes, sink, deadLetters, maxBatch, PipelineOptions.DEFAULT_MAX_BATCHES_IN_FLIGHT, maxEvents);
    }

    /**
     * @param deadLetters where refused events go for every source, or {@code null} for the default policy (an
     *     at-least-once source's route halts)
     * @param maxBatchesInFlight {@code delivery.max-batches-in-flight}
     */
    public ManualPipeline(
            List<Route> routes,
            Sink sink,
            DeadLetterHandler deadLetters,
            int maxBatch,
            int maxBatchesInFlight,
            int maxEvents) {
        FailurePolicy policy =
                new FailurePolicy(deadLetters, null, Map.of(), Map.of("wal", DeliveryGuarantee.AT_LEAST_ONCE));
        Pipeline.Options options = new Pipeline.Options(
                maxEvents,
                Long.MAX_VALUE,
                1,
                maxBatch,
                maxBatchesInFlight,
                Duration.ofMillis(1),
                Duration.ofMillis(10));
        this.pipeline = new Pipeline(routes, route -> sink, Map.of(), policy, options, null, null, new LaneScheduler() {
            @Override
            public void execute(Runnable lane) {
                ready.add(lane);
            }

            @Override
            public void schedule(Runnable lane, long delayMillis) {
                timers.add(lane);
            }
        });
    }

    public SourceContext attach(EventSource source) {
        return pipeline.attach(source, Executors.defaultThreadFactory(), cause -> {
            throw new AssertionError("source failed", cause);
        });
    }

    /** Runs the {@code pick}-th (modulo) lane that is ready; returns whether there was one. */
    public boolean runLane(int pick) {
        if (ready.isEmpty()) {
            return false;
        }
        ready.remove(pick % ready.size()).run();
        return true;
    }

    /** Lets the {@code pick}-th (modulo) pending retry timer fire; returns whether there was one. */
    public boolean fireRetry(int pick) {
        if (timers.isEmpty()) {
            return false;
        }
        timers.remove(pick % timers.size()).run();
        return true;
    }

    /** Whether no lane is ready and no retry is pending. */
    public boolean quiet() {
        return ready.isEmpty() && timers.isEmpty();
    }

    public int inFlightEvents() {
        return pipeline.inFlightEvents();
    }
}
