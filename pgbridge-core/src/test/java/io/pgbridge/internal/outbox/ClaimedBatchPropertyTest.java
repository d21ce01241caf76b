package io.pgbridge.internal.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The invariant that lets polling delete rows and the streaming backlog forget them: an event leaves the table (is
 * returned by {@code takeDone}) only after it was handed over and reported done, exactly once, and a batch counts as
 * finished exactly when nothing handed over is still pending. Checked over every interleaving jqwik tries of expect,
 * done (of any id, also unknown or repeated ones), forget, and takeDone.
 */
class ClaimedBatchPropertyTest {

    sealed interface Action {}

    record Expect(long id) implements Action {}

    record Done(long id) implements Action {}

    record Forget(long id) implements Action {}

    record Take() implements Action {}

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Long> ids = Arbitraries.longs().between(0, 30);
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(4, ids.map(Expect::new)),
                Tuple.of(4, ids.map(Done::new)),
                Tuple.of(1, ids.map(Forget::new)),
                Tuple.of(2, Arbitraries.just(new Take())));
        return action.list().ofMaxSize(150);
    }

    @Property
    void anEventIsTakenOnlyOnceAfterItWasExpectedAndDone(@ForAll("actions") List<Action> actions)
            throws InterruptedException {
        ClaimedBatch batch = new ClaimedBatch();
        Set<Long> pending = new HashSet<>();
        Set<Long> doneNotTaken = new HashSet<>();
        List<Long> taken = new ArrayList<>();
        Set<Long> expectedEver = new HashSet<>();
        for (Action a : actions) {
            if (a instanceof Expect e) {
                if (!expectedEver.add(e.id())) {
                    continue; // ids are unique within a batch
                }
                batch.expect(e.id());
                pending.add(e.id());
            } else if (a instanceof Done d) {
                batch.done(d.id());
                if (pending.remove(d.id())) {
                    doneNotTaken.add(d.id());
                }
            } else if (a instanceof Forget f) {
                batch.forget(f.id());
                pending.remove(f.id());
            } else {
                Long[] ids = batch.takeDone();
                assertThat(new HashSet<>(Arrays.asList(ids)))
                        .as("taken: exactly the events done since the last take")
                        .isEqualTo(doneNotTaken);
                taken.addAll(Arrays.asList(ids));
                doneNotTaken.clear();
            }
            assertThat(new HashSet<>(Arrays.asList(batch.pendingIds())))
                    .as("pending")
                    .isEqualTo(pending);
            assertThat(batch.awaitDone(0)).as("finished").isEqualTo(pending.isEmpty());
        }
        assertThat(taken).as("no event taken twice").doesNotHaveDuplicates();
    }
}
