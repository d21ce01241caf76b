package io.pgbridge.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The ledger's invariant, checked against a model over every interleaving jqwik tries of publish (on 0 to 3 routes),
 * move to a later position, seal, settle one route of any unsettled event in any order (a confirmation or a
 * dead letter: the ledger cannot tell them apart), and storing durably: an acknowledged position is always sealed,
 * every event at or below it is settled or stored durably, acknowledgements only grow, and the ledger acknowledges
 * as far as that allows (so it never stalls). Room is given back exactly for the events it passed.
 */
class LedgerPropertyTest {

    sealed interface Action {}

    record Publish(int routes) implements Action {}

    record NextPosition(int step) implements Action {}

    record Seal() implements Action {}

    record Settle(int pick) implements Action {}

    record StoreDurably(int behind) implements Action {}

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.integers().between(0, 3).map(Publish::new)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(1, 3).map(NextPosition::new)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(new Seal())),
                net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 50).map(Settle::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 4).map(StoreDurably::new)));
        return action.list().ofMaxSize(120);
    }

    /** The model: what was registered, settled, sealed and stored durably. */
    private static final class Model {
        final List<long[]> events = new ArrayList<>(); // {position, routes left}
        final TreeSet<Long> seals = new TreeSet<>();
        long position = 1;
        long durable = Long.MIN_VALUE;

        boolean done(long[] e) {
            return e[1] == 0 || e[0] <= durable;
        }

        /** The highest sealed position at or below which every event is settled or stored durably. */
        long expectedAck() {
            long ack = Long.MIN_VALUE;
            for (long s : seals) {
                boolean clear = true;
                for (long[] e : events) {
                    if (e[0] <= s && !done(e)) {
                        clear = false;
                        break;
                    }
                }
                if (clear) {
                    ack = s;
                }
            }
            return ack;
        }

        /** Events a ledger may give room back for: the settled ones before the first unsettled one. */
        int passable() {
            int n = 0;
            for (long[] e : events) {
                if (e[1] != 0) {
                    break;
                }
                n++;
            }
            return n;
        }
    }

    @Property(tries = 2000)
    void acknowledgesExactlyTheSealedSettledPrefix(@ForAll("actions") @Size(max = 120) List<Action> actions) {
        List<Long> acks = new ArrayList<>();
        Ledger ledger = new Ledger(acks::add, 1000);
        Model model = new Model();
        List<long[]> sequences = new ArrayList<>(); // {sequence, index into model.events}, one per unsettled route
        int passed = 0;
        List<Action> trace = new ArrayList<>();

        for (Action action : actions) {
            trace.add(action);
            if (action instanceof Publish p) {
                if (p.routes == 0) {
                    passed += ledger.registerSettled(model.position);
                    model.events.add(new long[] {model.position, 0});
                } else {
                    long seq = ledger.register(model.position, p.routes);
                    model.events.add(new long[] {model.position, p.routes});
                    for (int r = 0; r < p.routes; r++) {
                        sequences.add(new long[] {seq, model.events.size() - 1});
                    }
                }
            } else if (action instanceof NextPosition n) {
                model.position += n.step;
            } else if (action instanceof Seal) {
                passed += ledger.seal(model.position);
                model.seals.add(model.position);
                model.position++;
            } else if (action instanceof Settle s && !sequences.isEmpty()) {
                long[] route = sequences.remove(s.pick % sequences.size());
                boolean[] settled = new boolean[1];
                passed += ledger.settle(new long[] {route[0]}, 1, settled);
                long[] event = model.events.get((int) route[1]);
                event[1]--;
                assertThat(settled[0])
                        .as("settled on all routes after %s", trace)
                        .isEqualTo(event[1] == 0);
            } else if (action instanceof StoreDurably d) {
                long upTo = model.position - 1 - d.behind;
                passed += ledger.storedDurably(upTo);
                model.durable = Math.max(model.durable, upTo);
            }

            for (int i = 1; i < acks.size(); i++) {
                assertThat(acks.get(i))
                        .as("acknowledgements grow, after %s", trace)
                        .isGreaterThan(acks.get(i - 1));
            }
            for (long ack : acks) {
                assertThat(model.seals)
                        .as("acknowledged %d is sealed, after %s", ack, trace)
                        .contains(ack);
            }
            long last = acks.isEmpty() ? Long.MIN_VALUE : acks.get(acks.size() - 1);
            for (long[] e : model.events) {
                if (e[0] <= last) {
                    assertThat(model.done(e))
                            .as("event at %d under acknowledged %d is settled or durable, after %s", e[0], last, trace)
                            .isTrue();
                }
            }
            assertThat(ledger.acknowledged())
                    .as("acknowledged as far as the sealed, settled prefix reaches, after %s", trace)
                    .isEqualTo(model.expectedAck())
                    .isEqualTo(last);
            assertThat(passed)
                    .as(
                            "room given back for exactly the settled events before the first unsettled one, after %s",
                            trace)
                    .isEqualTo(model.passable());
            assertThat(ledger.held()).as("held, after %s", trace).isEqualTo(model.events.size() - passed);
        }
    }
}
