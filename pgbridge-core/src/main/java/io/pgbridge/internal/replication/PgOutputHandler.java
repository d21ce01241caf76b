package io.pgbridge.internal.replication;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * Receives the messages {@link PgOutputDecoder} decodes, in stream order. LSNs are 64-bit WAL positions. Called on the
 * decoding thread only. A handler may throw what its own work throws (a replication connection failing while it
 * waits); the decoder passes it on. A {@link TupleData} refers to the message being decoded: read it during the call,
 * never keep it.
 */
public interface PgOutputHandler {

    /** A transaction starts; {@code finalLsn} is the LSN of its commit record, known up front. */
    void begin(long finalLsn, Instant commitTime, long xid) throws InterruptedException, SQLException;

    /** The transaction ends; {@code endLsn} is the end of its commit record, where a restart may resume. */
    void commit(long commitLsn, long endLsn, Instant commitTime) throws InterruptedException, SQLException;

    /** A table's description, sent before its first change and after DDL; the decoder already cached it. */
    default void relation(Relation relation) {}

    /** A data type's name (sent for types that are not built in), before a relation that uses it. */
    default void type(int oid, String schema, String name) {}

    void insert(Relation relation, TupleData newRow) throws InterruptedException, SQLException;

    /**
     * @param oldKind {@code 'K'} when {@code oldRow} holds only the replica identity columns, {@code 'O'} when it is
     *     the whole old row (REPLICA IDENTITY FULL), {@code 0} when no old row was sent (the key did not change)
     * @param oldRow the old key or row, or {@code null}
     */
    void update(Relation relation, char oldKind, TupleData oldRow, TupleData newRow)
            throws InterruptedException, SQLException;

    /** @param oldKind {@code 'K'} (key columns only) or {@code 'O'} (the whole old row) */
    void delete(Relation relation, char oldKind, TupleData oldRow) throws InterruptedException, SQLException;

    void truncate(List<Relation> relations, boolean cascade, boolean restartIdentity)
            throws InterruptedException, SQLException;

    /**
     * A logical decoding message ({@code pg_logical_emit_message}); only with the {@code messages 'true'} option.
     *
     * @param transactional whether it belongs to the enclosing transaction (between begin and commit)
     */
    void message(long lsn, boolean transactional, String prefix, byte[] content)
            throws InterruptedException, SQLException;
}
