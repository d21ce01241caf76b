package io.pgbridge.internal.wal;

import java.nio.ByteBuffer;
import java.sql.SQLException;

/** Turns the messages of one output plugin into events through an {@link Emitter}. One per replication connection. */
interface ChangeDecoder {

    /**
     * @param message the XLogData payload
     * @param messageLsn the LSN the server gave the message (its XLogData start)
     */
    void decode(ByteBuffer message, long messageLsn) throws InterruptedException, SQLException;
}
