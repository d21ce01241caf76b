package io.pgbridge.internal.wal;

import io.pgbridge.Event;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Reads the routed tables chunk by chunk in primary-key order and hands their rows over as events, recording how far
 * the sinks confirmed so that a restart resumes after the last confirmed chunk. Reader thread only.
 *
 * <p>Positions: chunk {@code n} (numbered from 1 across restarts) carries position {@code n}, sealed once all its rows
 * are handed over. Every position is below the slot's consistent point, where streaming begins, so the ledger
 * acknowledges no streamed transaction before every chunk is settled, and acknowledging a chunk never moves the slot
 * (its confirmed position is the consistent point already). A chunk's cursor is recorded only once the ledger
 * acknowledged its position: what a crash leaves unrecorded is read again.
 *
 * <p>Why reading the rest of a table after a crash without the exported snapshot still leaves every row's last event
 * at its latest value: every chunk is handed over before the first streamed change, and the stream starts at the
 * consistent point; a row read later than the consistent point is followed by every change committed after that
 * point, in commit order. Proven by {@code InitialSnapshotPropertyTest}.
 */
final class InitialSnapshot {
    /** Rows per chunk (one query, held in memory at once). */
    static final int CHUNK_ROWS = 2048;

    /** One row of a chunk: its primary key values as text (the resume cursor) and its event payload. */
    record Row(List<String> key, byte[] payload) {}

    /** Where the snapshot stands: chunks numbered so far, the table being read and the last key read in it. */
    record Progress(long chunk, int table, List<String> lastKey, long rows) {
        static final Progress START = new Progress(0, 0, null, 0);
    }

    /** The tables, read in the snapshot (or, after a crash, as they are now). */
    interface Tables {
        /** Up to {@code limit} rows of table {@code table} whose key is above {@code after} (all when null), in key order. */
        List<Row> chunk(int table, List<String> after, int limit) throws SQLException;
    }

    /** Records confirmed progress durably. */
    interface Store {
        void record(Progress confirmed) throws SQLException;
    }

    /** The pipeline, as the snapshot sees it. */
    interface Output {
        /** Hands an event over at {@code position}; {@code false} when the source is stopping (it was not taken). */
        boolean hand(Event.Builder event, long position) throws InterruptedException;

        /** No event at or below {@code position} will come. */
        void seal(long position);

        /** The highest acknowledged position. */
        long acknowledged();
    }

    private final List<String> tableNames;
    private final String idPrefix;
    private final long consistentPoint;
    private final int chunkRows;
    private final Store store;
    private final Output output;
    private final ArrayDeque<Progress> unconfirmed = new ArrayDeque<>();
    private final RowIds ids = new RowIds();
    private Progress handed;

    /**
     * @param tableNames the tables, as {@code schema.table}, in reading order
     * @param idPrefix the prefix of the rows' event ids ({@link RowIds}): {@code <consistent point>:r:}
     * @param consistentPoint the slot's consistent point (the {@code lsn} of the events, and the bound below which
     *     chunk positions stay); {@link Long#MAX_VALUE} when there is no slot
     * @param from the last recorded progress ({@link Progress#START} for a new snapshot)
     */
    InitialSnapshot(
            List<String> tableNames,
            String idPrefix,
            long consistentPoint,
            int chunkRows,
            Progress from,
            Store store,
            Output output) {
        this.tableNames = List.copyOf(tableNames);
        this.idPrefix = idPrefix;
        this.consistentPoint = consistentPoint;
        this.chunkRows = chunkRows;
        this.store = store;
        this.output = output;
        this.handed = from;
    }

    /** Whether every table was read to its end (not necessarily confirmed). */
    boolean read() {
        return handed.table() >= tableNames.size();
    }

    /** Whether every table was read and the sinks confirmed every chunk, and that was recorded. */
    boolean complete() {
        return read() && unconfirmed.isEmpty();
    }

    /** The progress of what was handed over. */
    Progress handed() {
        return handed;
    }

    /** Chunks handed over whose confirmation is not recorded yet. */
    int unconfirmed() {
        return unconfirmed.size();
    }

    /**
     * Reads the next chunk and hands its rows over, then records the newest confirmed chunk. Returns {@code false}
     * without sealing the chunk when the source stops in its middle (its rows are read again on the next start).
     *
     * @throws SQLException when reading or recording fails; the snapshot can go on from {@link #handed()} with other
     *     {@link Tables}
     */
    boolean step(Tables tables) throws SQLException, InterruptedException {
        if (read()) {
            recordConfirmed();
            return true;
        }
        long number = handed.chunk() + 1;
        if (number >= consistentPoint - 1) {
            throw new IllegalStateException("snapshot chunk " + number + " would reach the consistent point "
                    + consistentPoint + "; raise the chunk size"); // needs ~2^24 chunks on a fresh cluster
        }
        List<Row> rows = tables.chunk(handed.table(), handed.lastKey(), chunkRows);
        String table = tableNames.get(handed.table());
        for (int i = 0; i < rows.size(); i++) {
            Event.Builder event = Event.builder()
                    .id(ids.id(idPrefix, table, rows.get(i).key()))
                    .channel(table)
                    .payloadUnsafe(rows.get(i).payload())
                    .contentType(Emitter.CONTENT_JSON);
            if (!output.hand(event, number)) {
                return false;
            }
        }
        Progress next = rows.size() < chunkRows
                ? new Progress(number, handed.table() + 1, null, handed.rows() + rows.size())
                : new Progress(number, handed.table(), rows.get(rows.size() - 1).key(), handed.rows() + rows.size());
        output.seal(number);
        unconfirmed.add(next);
        handed = next;
        recordConfirmed();
        return true;
    }

    /** Records the newest chunk the ledger acknowledged, if it is newer than the last recorded one. */
    void recordConfirmed() throws SQLException {
        long acknowledged = output.acknowledged();
        Progress newest = null;
        int confirmed = 0;
        for (Progress p : unconfirmed) {
            if (p.chunk() > acknowledged) {
                break;
            }
            newest = p;
            confirmed++;
        }
        if (newest != null) {
            store.record(newest); // a failure leaves them unconfirmed: recorded again with the next chunk
            for (int i = 0; i < confirmed; i++) {
                unconfirmed.poll();
            }
        }
    }
}
