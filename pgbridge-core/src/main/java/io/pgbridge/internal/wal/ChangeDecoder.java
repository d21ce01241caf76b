package io.pgbridge.internal.wal;

import java.nio.ByteBuffer;
import java.sql.SQLException;

/**
 * Turns the messages of one output plugin into events through an {@link Emitter}. One per replication connection.
 * Public for sources built on the WAL stream (the outbox's streaming mode).
 */
public interface ChangeDecoder {

    /**
     * @param message the XLogData payload
     * @param messageLsn the LSN the server gave the message (its XLogData start)
     */
    void decode(ByteBuffer message, long messageLsn) throws InterruptedException, SQLException;

    /**
     * Called on the reader thread between transactions: after a transaction's last message, and while no message is
     * pending (then as often as the reader polls, so it must be cheap when there is nothing to do). A decoder that
     * does work of its own besides decoding (the outbox's replay) does it here. The flushed LSN is reported right
     * after it returns.
     */
    default void betweenTransactions() throws InterruptedException, SQLException {}
}
