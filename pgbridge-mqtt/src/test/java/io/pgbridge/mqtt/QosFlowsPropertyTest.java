package io.pgbridge.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.spi.PublishResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * {@link QosFlows}'s invariant over every order jqwik tries in which a batch's flows complete (normally: the broker
 * acknowledged; exceptionally: it refused, or the connection was lost) and its timeout passes: after every step, the
 * result is decided exactly when the confirmed prefix is known or the batch expired, confirms exactly the leading flows
 * that had completed normally when it was decided, names the flow after them as the failed one, and never changes.
 */
class QosFlowsPropertyTest {
    /** One step: flow {@code flow} completes ({@code ok} or not), or, with {@code flow} -1, the timeout passes. */
    record Step(int flow, boolean ok) {}

    @Property
    void theResultIsTheConfirmedPrefixWhenItWasDecided(@ForAll("batches") List<Step> steps) {
        int n = (int) steps.stream().filter(s -> s.flow >= 0).count();
        List<CompletableFuture<?>> flows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            flows.add(new CompletableFuture<>());
        }
        List<String> outcomes = new ArrayList<>();
        QosFlows batch = new QosFlows(flows, new QosFlows.Outcomes() {
            @Override
            public PublishResult allCompleted(int count) {
                outcomes.add("all");
                return PublishResult.confirmed(count);
            }

            @Override
            public PublishResult failed(int confirmed, Throwable cause) {
                outcomes.add("failed");
                return PublishResult.failed(confirmed, cause.getMessage(), cause);
            }

            @Override
            public PublishResult expired(int confirmed) {
                outcomes.add("expired");
                return PublishResult.failed(confirmed, "expired", null);
            }
        });
        boolean expired = false;
        PublishResult decided = check(batch, flows, false, null, "none");
        for (Step step : steps) {
            if (step.flow < 0) {
                expired = true;
                batch.expire();
            } else if (step.ok) {
                flows.get(step.flow).complete(null);
            } else {
                flows.get(step.flow).completeExceptionally(new IllegalStateException("flow " + step.flow));
            }
            decided = check(batch, flows, expired, decided, step.toString());
        }
        assertThat(outcomes).as("outcomes asked").hasSize(decided == null ? 0 : 1);
    }

    /** Checks the batch after a step against what was decided before it; returns what is decided now. */
    private static PublishResult check(
            QosFlows batch, List<CompletableFuture<?>> flows, boolean expired, PublishResult before, String step) {
        int n = flows.size();
        int prefix = 0;
        while (prefix < n && flows.get(prefix).isDone() && !flows.get(prefix).isCompletedExceptionally()) {
            prefix++;
        }
        boolean known = prefix == n || flows.get(prefix).isCompletedExceptionally() || expired;
        PublishResult decided = before;
        if (decided == null) {
            assertThat(batch.result().isDone())
                    .as("decided after step %s", step)
                    .isEqualTo(known);
            if (!known) {
                return null;
            }
            decided = batch.result().join();
            assertThat(decided.confirmed())
                    .as("confirmed, decided after step %s", step)
                    .isEqualTo(prefix);
            if (prefix == n) {
                assertThat(decided.isFailure()).as("%s", decided).isFalse();
            } else if (flows.get(prefix).isCompletedExceptionally()) {
                assertThat(decided.reason()).isEqualTo("flow " + prefix);
            } else {
                assertThat(decided.reason()).isEqualTo("expired");
            }
        }
        assertThat(batch.result().join()).as("the result, once decided").isSameAs(decided);
        assertThat(decided.confirmed())
                .as("confirmed, never above the flows completed normally")
                .isLessThanOrEqualTo(prefix);
        return decided;
    }

    /** 0 to 12 flows, each completing once, normally (4 in 5) or not, and maybe a timeout, in any order. */
    @Provide
    Arbitrary<List<Step>> batches() {
        return Arbitraries.integers().between(0, 12).flatMap(n -> Combinators.combine(
                        Arbitraries.frequency(Tuple.of(4, true), Tuple.of(1, false))
                                .list()
                                .ofSize(n),
                        Arbitraries.of(true, false))
                .flatAs((oks, timeout) -> {
                    List<Step> steps = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        steps.add(new Step(i, oks.get(i)));
                    }
                    if (timeout) {
                        steps.add(new Step(-1, false));
                    }
                    return Arbitraries.shuffle(steps);
                }));
    }
}
