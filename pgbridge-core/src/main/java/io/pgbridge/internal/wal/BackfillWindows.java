package io.pgbridge.internal.wal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The watermark windows of online backfills (the DBLog approach): the one place that decides which rows of a backfill
 * chunk are handed over.
 *
 * <p><b>Invariant:</b> a chunk row is handed over only at its chunk's high watermark, and only when no change to its key
 * (nor a truncate of its table) came through the stream between the chunk's low and high watermarks; so, since the
 * chunk was read after the low watermark and after every transaction committed before it had become visible
 * ({@link Backfill}), the last event of every row carries its latest committed value and no deleted row comes back.
 *
 * <p>Threads: the reader thread {@link #low opens} a window when it decodes the low watermark, reports
 * {@link #changed changes} and {@link #high closes} it at the high watermark; the backfill thread {@link #offer offers}
 * the chunk's rows before it writes the high watermark, so they are always there when the reader gets to it. A
 * watermark the windows do not know (one written before a crash, read again) is ignored. Memory: the rows of the chunks
 * in flight (one per running backfill) and the keys changed inside their windows. Thread-safe.
 */
final class BackfillWindows {
    /** One chunk in flight: its table, its rows once offered, and whether the reader is inside its window. */
    private static final class Window {
        final String table;
        final List<String> keyNames;
        final String idPrefix;
        List<InitialSnapshot.Row> rows;
        boolean open;
        long closedAt = -1;
        boolean truncated;
        final Set<List<String>> changed = new HashSet<>();

        Window(String table, List<String> keyNames, String idPrefix) {
            this.table = table;
            this.keyNames = List.copyOf(keyNames);
            this.idPrefix = idPrefix;
        }
    }

    private final Map<String, Window> windows = new HashMap<>();
    private volatile int open;

    /**
     * The backfill thread: chunk {@code id} of {@code table} will be read; call before writing its low watermark.
     *
     * @param keyNames the table's primary key columns, in key order: the key of a row and of a change
     * @param idPrefix the prefix of the event ids of the chunk's rows ({@link RowIds}), the same for every chunk of one
     *     backfill, also after a resume
     */
    synchronized void expect(String id, String table, List<String> keyNames, String idPrefix) {
        windows.put(id, new Window(table, keyNames, idPrefix));
    }

    /** The reader: the primary key columns of {@code table} while a window on it is open, else {@code null}. */
    synchronized List<String> keyNames(String table) {
        for (Window w : windows.values()) {
            if (w.open && w.table.equals(table)) {
                return w.keyNames;
            }
        }
        return null;
    }

    /** The reader: the table of chunk {@code id}, {@code null} when the chunk is not known. */
    synchronized String table(String id) {
        Window w = windows.get(id);
        return w == null ? null : w.table;
    }

    /** The reader: the prefix of the event ids of chunk {@code id}'s rows, {@code null} when the chunk is not known. */
    synchronized String idPrefix(String id) {
        Window w = windows.get(id);
        return w == null ? null : w.idPrefix;
    }

    /** The backfill thread: the rows chunk {@code id} read; call before writing its high watermark. */
    synchronized void offer(String id, List<InitialSnapshot.Row> rows) {
        Window w = windows.get(id);
        if (w != null) {
            w.rows = rows;
        }
    }

    /** The backfill thread: chunk {@code id} is given up (its high watermark will not be written, or is ignored). */
    synchronized void forget(String id) {
        Window w = windows.remove(id);
        if (w != null && w.open) {
            open--;
        }
    }

    /**
     * The reader: the low watermark of chunk {@code id}. Read again after a reconnect, it starts the window anew: the
     * changes after it come again too.
     */
    synchronized void low(String id) {
        Window w = windows.get(id);
        if (w == null || w.closedAt >= 0) {
            return;
        }
        if (!w.open) {
            open++;
        }
        w.open = true;
        w.truncated = false;
        w.changed.clear();
    }

    /**
     * The backfill thread: the position at which the reader handed chunk {@code id}'s rows over (its high watermark's
     * LSN), forgetting the chunk; {@code -1} while its high watermark is not handled yet (the chunk stays).
     */
    synchronized long taken(String id) {
        Window w = windows.get(id);
        if (w == null || w.closedAt < 0) {
            return -1;
        }
        windows.remove(id);
        return w.closedAt;
    }

    /** Whether any window is open: the reader reports changes only then. Cheap. */
    boolean anyOpen() {
        return open > 0;
    }

    /** The reader: a change to the row of {@code key} (primary key values as text) in {@code table}. */
    synchronized void changed(String table, List<String> key) {
        for (Window w : windows.values()) {
            if (w.open && w.table.equals(table)) {
                w.changed.add(key);
            }
        }
    }

    /** The reader: {@code table} was truncated. */
    synchronized void truncated(String table) {
        for (Window w : windows.values()) {
            if (w.open && w.table.equals(table)) {
                w.truncated = true;
            }
        }
    }

    /**
     * The reader: the high watermark of chunk {@code id}, at {@code position}. Returns the rows to hand over now, at
     * that position (those whose key did not change inside the window), or {@code null} for a watermark not known,
     * handled already, or whose low watermark was not seen.
     */
    synchronized List<InitialSnapshot.Row> high(String id, long position) {
        Window w = windows.get(id);
        if (w == null || !w.open || w.rows == null) {
            return null;
        }
        w.open = false;
        w.closedAt = position;
        open--;
        List<InitialSnapshot.Row> kept = new ArrayList<>(w.rows.size());
        if (!w.truncated) {
            for (InitialSnapshot.Row row : w.rows) {
                if (!w.changed.contains(row.key())) {
                    kept.add(row);
                }
            }
        }
        w.rows = null;
        w.changed.clear();
        return kept;
    }
}
