package io.pgbridge.internal.pipeline;

import java.util.concurrent.RejectedExecutionException;

/** Where lanes run and wait for their retries: the delivery threads and a timer (tests run them by hand). */
interface LaneScheduler {
    /**
     * Runs a lane soon.
     *
     * @throws RejectedExecutionException once the pipeline stopped
     */
    void execute(Runnable lane);

    /**
     * Runs a lane after {@code delayMillis}.
     *
     * @throws RejectedExecutionException once the pipeline stopped
     */
    void schedule(Runnable lane, long delayMillis);
}
