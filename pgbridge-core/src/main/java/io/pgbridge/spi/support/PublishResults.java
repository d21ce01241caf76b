package io.pgbridge.spi.support;

import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * For a sink whose {@link Sink#publishAsync} is its real implementation: its {@link Sink#publish} is
 * {@code return PublishResults.await(publishAsync(target, events));}, one code path for both.
 */
public final class PublishResults {
    private PublishResults() {}

    /**
     * Waits for a publish's result.
     *
     * @param result a result that never completes exceptionally (the contract of {@link Sink#publishAsync})
     * @return the result
     * @throws InterruptedException when the calling thread is interrupted while it waits
     * @throws IllegalStateException when {@code result} completed exceptionally after all (a sink bug)
     */
    public static PublishResult await(CompletionStage<PublishResult> result) throws InterruptedException {
        try {
            return result.toCompletableFuture().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("a publish's result never completes exceptionally", e.getCause());
        }
    }
}
