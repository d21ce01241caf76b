package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The online backfill's invariant ({@link BackfillWindows}): for every interleaving of chunk reads, low and high
 * watermarks, concurrent commits, transactions whose commit record is in the WAL but which are not visible yet, and
 * reconnects of the stream (which reads again from an earlier position) and crashes of the bridge (the windows are
 * lost; the stream resumes at the slot's confirmed position, the backfill after its recorded chunk, which is one whose
 * high watermark the slot has passed), the events rebuild the table: the last event
 * of each key carries its latest committed value, and a deleted row's last event is its delete (it is never
 * resurrected by a chunk row). The real windows run against a model database whose backfill follows {@link Backfill}'s
 * order: low watermark, wait for the transactions in progress at a snapshot taken after it, read the chunk, offer it,
 * high watermark.
 */
class BackfillWindowsPropertyTest {
    static final String TABLE = "public.t";
    static final int KEYS = 16;
    /** In a recorded cursor: the chunk was the table's last (the backfill is done). */
    static final int DONE_MARK = Integer.MIN_VALUE;
    /** The prefix of the backfill's event ids: recorded when it starts, kept across crashes ({@link Backfill}). */
    static final String ID_PREFIX = "0/1A2B3C4:b:";
    /** The value of a delete event. */
    static final int DELETED = Integer.MIN_VALUE;

    /** A change committed to the WAL (its commit record), not yet visible while it is pending. */
    record Txn(int xid, int key, Integer value) {}

    record Mark(String id, boolean low) {}

    enum Phase {
        NEXT,
        LOW_WRITTEN,
        WAITING,
        AFTER_HIGH,
        DONE
    }

    @Provide
    Arbitrary<List<Integer>> steps() {
        return Arbitraries.integers().between(0, 9_999).list().ofMinSize(0).ofMaxSize(400);
    }

    @Provide
    Arbitrary<Set<Integer>> initial() {
        return Arbitraries.integers().between(0, KEYS - 1).set().ofMaxSize(KEYS);
    }

    @Property(tries = 1000)
    void lastEventOfEveryRowIsItsLatestCommittedValue(
            @ForAll("initial") Set<Integer> initialRows,
            @ForAll("steps") List<Integer> steps,
            @ForAll("chunk") int chunkRows) {
        Model m = new Model(initialRows, chunkRows);
        for (int step : steps) {
            int pick = step / 10;
            switch (step % 10) {
                case 0, 1 -> m.write(pick % KEYS, pick % 5 == 0);
                case 2 -> m.finishOne(pick);
                case 3, 4 -> m.backfillStep();
                case 5, 6, 7 -> m.readerStep();
                case 8 -> m.reconnect(pick);
                default -> {
                    if (pick % 3 == 0) { // rarer than the rest
                        m.crash(pick / 3);
                    }
                }
            }
        }
        m.drain();
        assertThat(m.rebuilt())
                .as("state rebuilt from the events (last event per key) vs the table; WAL %s", m.wal)
                .isEqualTo(m.visible);
    }

    @Provide
    Arbitrary<Integer> chunk() {
        return Arbitraries.integers().between(1, 6);
    }

    static final class Model {
        BackfillWindows windows = new BackfillWindows();
        final TreeMap<Integer, Integer> visible = new TreeMap<>();
        final List<Object> wal = new ArrayList<>();
        final Map<Integer, Txn> pending = new LinkedHashMap<>();
        // the events delivered, in order: {WAL index of their record, key, value or DELETED}
        final List<int[]> events = new ArrayList<>();
        final int chunkRows;
        // the backfill rows' event ids: one per row, the same every time the row is sent
        final RowIds ids = new RowIds();
        final Map<Integer, String> idByKey = new HashMap<>();
        final Map<String, Integer> keyById = new HashMap<>();
        int nextXid = 1;
        int runs = 1;
        // chunks whose high watermark the reader handled: WAL index of the high watermark, cursor after the chunk
        final List<int[]> handled = new ArrayList<>();
        boolean lastChunk; // the chunk in flight is the table's last
        int nextValue = 1000;
        int readAt;
        // the backfill thread
        Phase phase = Phase.NEXT;
        int chunk;
        Integer cursor; // last key read, null before the first chunk
        int bound; // the xid the backfill took after the low watermark
        String id;

        Model(Set<Integer> initial, int chunkRows) {
            this.chunkRows = chunkRows;
            for (int k : initial) {
                visible.put(k, nextValue++);
            }
        }

        /** A transaction writes its commit record; it becomes visible later ({@link #finishOne}). Row locks: one writer per key. */
        void write(int key, boolean delete) {
            for (Txn t : pending.values()) {
                if (t.key() == key) {
                    return;
                }
            }
            Integer current = visible.get(key); // the latest: no other writer holds the row
            Txn t = new Txn(nextXid++, key, delete && current != null ? null : nextValue++);
            wal.add(t);
            pending.put(t.xid(), t);
        }

        void finishOne(int pick) {
            if (pending.isEmpty()) {
                return;
            }
            Txn t = new ArrayList<>(pending.values()).get(pick % pending.size());
            pending.remove(t.xid());
            if (t.value() == null) {
                visible.remove(t.key());
            } else {
                visible.put(t.key(), t.value());
            }
        }

        void backfillStep() {
            switch (phase) {
                case NEXT -> {
                    id = "run" + runs + ":" + (++chunk);
                    windows.expect(id, TABLE, List.of("k"), ID_PREFIX);
                    wal.add(new Mark(id, true));
                    phase = Phase.LOW_WRITTEN;
                }
                case LOW_WRITTEN -> {
                    // pg_current_xact_id() after the low watermark: an xid of its own, which ends at once; the
                    // backfill then waits for every xid below it. (Waiting only for a snapshot's xip, the xids in
                    // progress below its xmax = latestCompletedXid + 1, misses the newest one in progress: modelled
                    // so, this test finds a resurrected row in a few steps.)
                    bound = nextXid++;
                    phase = Phase.WAITING;
                }
                case WAITING -> {
                    for (int x : pending.keySet()) {
                        if (x < bound) {
                            return; // still in progress: a snapshot's xmin is not above the bound yet
                        }
                    }
                    List<InitialSnapshot.Row> rows = new ArrayList<>();
                    Map<Integer, Integer> range = cursor == null ? visible : visible.tailMap(cursor, false);
                    for (Map.Entry<Integer, Integer> e : range.entrySet()) {
                        if (rows.size() == chunkRows) {
                            break;
                        }
                        rows.add(new InitialSnapshot.Row(
                                List.of(String.valueOf(e.getKey())),
                                String.valueOf(e.getValue()).getBytes(StandardCharsets.UTF_8)));
                    }
                    windows.offer(id, rows);
                    wal.add(new Mark(id, false));
                    boolean last = rows.size() < chunkRows;
                    cursor = last
                            ? null
                            : Integer.valueOf(rows.get(rows.size() - 1).key().get(0));
                    phase = last ? Phase.DONE : Phase.AFTER_HIGH;
                }
                case AFTER_HIGH -> {
                    long at = windows.taken(id);
                    if (at >= 0) {
                        handled.add(new int[] {(int) at, lastChunk ? DONE_MARK : cursor});
                        phase = lastChunk ? Phase.DONE : Phase.NEXT;
                    }
                }
                case DONE -> {}
            }
        }

        void readerStep() {
            if (readAt >= wal.size()) {
                return;
            }
            int at = readAt++;
            Object r = wal.get(at);
            if (r instanceof Txn t) {
                if (windows.anyOpen()) {
                    windows.changed(TABLE, List.of(String.valueOf(t.key())));
                }
                events.add(new int[] {at, t.key(), t.value() == null ? DELETED : t.value()});
            } else if (r instanceof Mark mark && mark.low()) {
                windows.low(mark.id());
            } else if (r instanceof Mark mark) {
                String prefix = windows.idPrefix(mark.id());
                List<InitialSnapshot.Row> rows = windows.high(mark.id(), at);
                if (rows != null) {
                    for (InitialSnapshot.Row row : rows) {
                        int key = Integer.parseInt(row.key().get(0));
                        events.add(
                                new int[] {at, key, Integer.parseInt(new String(row.payload(), StandardCharsets.UTF_8))
                                });
                        String eventId = ids.id(prefix, TABLE, row.key()); // as PgOutputEvents names it
                        assertThat(idByKey.computeIfAbsent(key, k -> eventId))
                                .as("event id of row %d when sent again (after a crash or a reconnect)", key)
                                .isEqualTo(eventId);
                        assertThat(keyById.computeIfAbsent(eventId, i -> key))
                                .as("rows sharing event id %s", eventId)
                                .isEqualTo(key);
                    }
                }
            }
        }

        /**
         * SIGKILL: the windows and the chunk in flight are gone. The slot stands at some position the reader had passed
         * (what was acknowledged); the record holds the cursor of a chunk whose high watermark lies below it (the
         * newest acknowledged one, or an older one when recording lagged). Both resume from there; the events already
         * delivered stay delivered.
         */
        void crash(int pick) {
            int confirmed = pick % (readAt + 1);
            int lag = pick % 2;
            int[] recorded = null;
            int kept = 0;
            for (int i = handled.size() - 1; i >= 0 && recorded == null; i--) {
                if (handled.get(i)[0] < confirmed && lag-- == 0) {
                    recorded = handled.get(i);
                    kept = i + 1;
                }
            }
            // the chunks handled after the recorded one were never recorded, and never will be: their bridge is gone
            // (without this, a later crash could "find" a chunk of this run recorded, which no process wrote)
            handled.subList(kept, handled.size()).clear();
            windows = new BackfillWindows();
            readAt = confirmed;
            events.removeIf(e -> e[0] >= confirmed); // not acknowledged: lost with the bridge (the worst case)
            runs++;
            if (recorded != null && recorded[1] == DONE_MARK) {
                phase = Phase.DONE; // recorded done: not resumed
            } else {
                cursor = recorded == null ? null : recorded[1];
                phase = Phase.NEXT;
            }
        }

        /** The stream is lost and read again from an earlier position (what was not flushed comes again). */
        void reconnect(int pick) {
            readAt = pick % (readAt + 1);
        }

        void drain() {
            while (!pending.isEmpty()) {
                finishOne(0);
            }
            for (int guard = 0; guard < 100_000 && (phase != Phase.DONE || readAt < wal.size()); guard++) {
                backfillStep();
                readerStep();
            }
            assertThat(phase).as("the backfill finished").isEqualTo(Phase.DONE);
            while (readAt < wal.size()) {
                readerStep();
            }
        }

        Map<Integer, Integer> rebuilt() {
            Map<Integer, Integer> state = new TreeMap<>();
            for (int[] e : events) {
                if (e[2] == DELETED) {
                    state.remove(e[1]);
                } else {
                    state.put(e[1], e[2]);
                }
            }
            return state;
        }
    }
}
