package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.TestSink;
import io.pgbridge.internal.pipeline.ManualPipeline;
import io.pgbridge.internal.replication.FlushTracker;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.SourceContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The initial snapshot's invariant: for every interleaving of chunk reads, concurrent commits, deliveries, broker
 * failures and crashes of the bridge, the events rebuild every table (the last event of each key carries its latest
 * committed value, a deleted row's last event is its delete), and without a crash no row is sent twice. The real
 * {@link InitialSnapshot} and the real pipeline and ledger ({@link ManualPipeline}) run against a model database: two
 * tables, a slot whose stream holds every change committed after the consistent point, an exported snapshot that dies
 * with the bridge, and a progress record that survives it.
 */
class InitialSnapshotPropertyTest {
    static final List<String> TABLES = List.of("public.a", "public.b");
    static final long CONSISTENT_POINT = 1_000_000;
    static final int KEYS = 12;

    sealed interface Action permits Change, Read, RunLane, FireRetry, Crash {}

    /** A transaction commits a change to a row: an insert or update, or a delete. */
    record Change(int table, int key, boolean delete) implements Action {}

    /** The snapshot reads one chunk and hands it over. */
    record Read() implements Action {}

    /** A lane delivers; the broker confirms or fails the batch (retried later). */
    record RunLane(int pick, boolean fail) implements Action {}

    record FireRetry(int pick) implements Action {}

    /** SIGKILL: the pipeline and the exported snapshot are gone; a new bridge resumes from the recorded progress. */
    record Crash() implements Action {}

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(
                        6,
                        Combinators.combine(
                                        Arbitraries.integers().between(0, 1),
                                        Arbitraries.integers().between(0, KEYS - 1),
                                        Arbitraries.integers().between(0, 3).map(i -> i == 0))
                                .as(Change::new)),
                Tuple.of(5, Arbitraries.just(new Read())),
                Tuple.of(
                        5,
                        Combinators.combine(
                                        Arbitraries.integers().between(0, 3),
                                        Arbitraries.integers().between(0, 4).map(i -> i == 0))
                                .as(RunLane::new)),
                Tuple.of(1, Arbitraries.integers().between(0, 3).map(FireRetry::new)),
                Tuple.of(1, Arbitraries.just(new Crash())));
        return action.list().ofMaxSize(120);
    }

    @Provide
    Arbitrary<List<Set<Integer>>> initialRows() {
        return Arbitraries.integers().between(0, KEYS - 1).set().list().ofSize(2);
    }

    @Property(tries = 500)
    void theEventsRebuildEveryTable(
            @ForAll("initialRows") List<Set<Integer>> initialRows,
            @ForAll("actions") List<Action> actions,
            @ForAll("chunkSizes") int chunkRows) {
        new Run(initialRows, chunkRows).play(actions);
    }

    @Provide
    Arbitrary<Integer> chunkSizes() {
        return Arbitraries.of(1, 3, 100);
    }

    private static final class Run {
        final List<TreeMap<Integer, String>> live = new ArrayList<>();
        final List<TreeMap<Integer, String>> exported = new ArrayList<>();
        /** Changes committed after the consistent point, in commit order: table, key, value (null: deleted). */
        final List<Object[]> stream = new ArrayList<>();
        /** What the broker confirmed, in order: channel and payload. */
        final List<String[]> delivered = new ArrayList<>();

        final List<String> trace = new ArrayList<>();
        final int chunkRows;
        InitialSnapshot.Progress recorded = InitialSnapshot.Progress.START;
        boolean crashed;
        /** The highest position any bridge's ledger acknowledged (chunk numbers go on across restarts). */
        long acknowledged = Long.MIN_VALUE;

        int version;
        Bridge bridge;

        Run(List<Set<Integer>> initialRows, int chunkRows) {
            this.chunkRows = chunkRows;
            for (Set<Integer> keys : initialRows) {
                TreeMap<Integer, String> t = new TreeMap<>();
                keys.forEach(k -> t.put(k, "v" + version++));
                live.add(t);
                exported.add(new TreeMap<>(t));
            }
            bridge = new Bridge();
        }

        void play(List<Action> actions) {
            for (Action action : actions) {
                trace.add(action.toString());
                step(action);
                assertThat(bridge.tracker.acknowledged())
                        .as("a snapshot position reaches the consistent point, after %s", trace)
                        .isLessThan(CONSISTENT_POINT);
                assertThat(recorded.chunk())
                        .as("progress recorded beyond what the ledger acknowledged, after %s", trace)
                        .isLessThanOrEqualTo(Math.max(0, acknowledged));
            }
            trace.add("finish: read the rest, deliver everything, then stream from the consistent point");
            bridge.failing = false;
            try {
                while (!bridge.snapshot.read()) {
                    bridge.snapshot.step(bridge.tables());
                }
                for (int i = 0; !bridge.pipeline.quiet() && i < 100_000; i++) {
                    if (!bridge.pipeline.runLane(0)) {
                        bridge.pipeline.fireRetry(0);
                    }
                }
                bridge.snapshot.recordConfirmed();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            assertThat(bridge.snapshot.complete())
                    .as("snapshot complete after %s", trace)
                    .isTrue();
            for (Object[] change : stream) {
                delivered.add(new String[] {
                    TABLES.get((Integer) change[0]),
                    change[2] == null ? "d:" + change[1] : "c:" + change[1] + "=" + change[2]
                });
            }
            check();
        }

        void step(Action action) {
            try {
                if (action instanceof Change c) {
                    String value = c.delete() ? null : "v" + version++;
                    if (value == null) {
                        live.get(c.table()).remove(c.key());
                    } else {
                        live.get(c.table()).put(c.key(), value);
                    }
                    stream.add(new Object[] {c.table(), c.key(), value});
                } else if (action instanceof Read) {
                    bridge.snapshot.step(bridge.tables());
                } else if (action instanceof RunLane r) {
                    bridge.failing = r.fail();
                    bridge.pipeline.runLane(r.pick());
                    bridge.snapshot.recordConfirmed();
                } else if (action instanceof FireRetry f) {
                    bridge.failing = false;
                    bridge.pipeline.fireRetry(f.pick());
                    bridge.snapshot.recordConfirmed();
                } else if (action instanceof Crash) {
                    crashed = true;
                    bridge = new Bridge();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        void check() {
            checkIds();
            for (int t = 0; t < TABLES.size(); t++) {
                Map<Integer, String> rebuilt = new TreeMap<>();
                Set<Integer> read = new HashSet<>();
                for (String[] event : delivered) {
                    if (!event[0].equals(TABLES.get(t))) {
                        continue;
                    }
                    String p = event[1];
                    int key = Integer.parseInt(p.substring(2, p.indexOf('=') < 0 ? p.length() : p.indexOf('=')));
                    if (p.startsWith("d:")) {
                        rebuilt.remove(key);
                    } else {
                        rebuilt.put(key, p.substring(p.indexOf('=') + 1));
                    }
                    if (p.startsWith("r:") && !crashed) {
                        assertThat(read.add(key))
                                .as("row %d of %s read twice without a crash, after %s", key, TABLES.get(t), trace)
                                .isTrue();
                        assertThat(p.substring(p.indexOf('=') + 1))
                                .as("row %d of %s read with a value not of the snapshot, after %s", key, t, trace)
                                .isEqualTo(exported.get(t).get(key));
                    }
                }
                assertThat(rebuilt)
                        .as("table %s rebuilt from its events, after %s", TABLES.get(t), trace)
                        .isEqualTo(live.get(t));
            }
        }

        /**
         * Every snapshot row's event id names one row (table and key), and a row sent again (after a crash, read again
         * from the recorded chunk, with other rows around it) carries the id it had before, so that consumers can
         * deduplicate on it.
         */
        void checkIds() {
            Map<String, String> rowById = new HashMap<>();
            Map<String, String> idByRow = new HashMap<>();
            for (String[] event : delivered) {
                if (event.length < 3 || !event[1].startsWith("r:")) {
                    continue;
                }
                String row = event[0] + "/" + event[1].substring(2, event[1].indexOf('='));
                assertThat(rowById.computeIfAbsent(event[2], id -> row))
                        .as("rows sharing event id %s, after %s", event[2], trace)
                        .isEqualTo(row);
                assertThat(idByRow.computeIfAbsent(row, r -> event[2]))
                        .as("event id of row %s when sent again, after %s", row, trace)
                        .isEqualTo(event[2]);
            }
        }

        /** One bridge process: its pipeline, ledger, flush tracker and snapshot reader. */
        final class Bridge implements EventSource {
            final FlushTracker tracker = new FlushTracker(CONSISTENT_POINT);
            final ManualPipeline pipeline;
            final SourceContext context;
            final InitialSnapshot snapshot;
            /** The exported snapshot lives as long as the bridge that created the slot, never after a crash. */
            final boolean inExportedSnapshot = !crashed;

            boolean failing;

            Bridge() {
                pipeline = new ManualPipeline(
                        List.of(Route.of("public.a", Target.queue("a")), Route.of("public.b", Target.queue("b"))),
                        new Broker(),
                        null,
                        4,
                        10_000);
                context = pipeline.attach(this);
                snapshot = new InitialSnapshot(
                        TABLES, "0/F4240:r:", CONSISTENT_POINT, chunkRows, recorded, p -> recorded = p, new Output());
            }

            InitialSnapshot.Tables tables() {
                List<TreeMap<Integer, String>> source = inExportedSnapshot ? exported : live;
                return (table, after, limit) -> {
                    List<InitialSnapshot.Row> rows = new ArrayList<>();
                    var tail = after == null
                            ? source.get(table)
                            : source.get(table).tailMap(Integer.parseInt(after.get(0)), false);
                    for (var row : tail.entrySet()) {
                        if (rows.size() == limit) {
                            break;
                        }
                        rows.add(new InitialSnapshot.Row(
                                List.of(String.valueOf(row.getKey())),
                                ("r:" + row.getKey() + "=" + row.getValue()).getBytes(StandardCharsets.UTF_8)));
                    }
                    return rows;
                };
            }

            final class Output implements InitialSnapshot.Output {
                @Override
                public boolean hand(Event.Builder event, long position) throws InterruptedException {
                    Event e = event.source("wal").position(position).build();
                    assertThat(context.publishDeferred(e, Duration.ZERO))
                            .as("room in the pipeline")
                            .isTrue();
                    return true;
                }

                @Override
                public void seal(long position) {
                    context.flush();
                    context.seal(position);
                    tracker.sealed(position);
                }

                @Override
                public long acknowledged() {
                    return tracker.acknowledged();
                }
            }

            @Override
            public String name() {
                return "wal";
            }

            @Override
            public void start(SourceContext context) {}

            @Override
            public void acknowledge(long position) {
                tracker.acknowledge(position);
                acknowledged = Math.max(acknowledged, position);
            }

            @Override
            public void stop() {}

            @Override
            public void close() {}

            private final class Broker extends TestSink {
                Broker() {
                    super("model");
                }

                @Override
                public PublishResult publish(Target target, List<Event> events) {
                    if (failing || bridge != Bridge.this) {
                        return PublishResult.failed(0, "broker down", null);
                    }
                    for (Event e : events) {
                        delivered.add(new String[] {e.channel(), e.payloadAsString(), e.id()});
                    }
                    return PublishResult.confirmed(events.size());
                }
            }
        }
    }
}
