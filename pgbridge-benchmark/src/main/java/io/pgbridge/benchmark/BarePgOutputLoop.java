package io.pgbridge.benchmark;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

/**
 * The baseline: a bare pgjdbc loop that reads pgoutput from the slot and counts Insert messages, nothing else (no
 * decoding of rows, no JSON, no pipeline). Commit-to-read latency is taken per transaction from the Commit message.
 */
final class BarePgOutputLoop {
    private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

    private BarePgOutputLoop() {}

    static void run(String jdbcUrl, String user, String slot, Measurements m, long rows, Runnable ready)
            throws Exception {
        Properties props = new Properties();
        PGProperty.USER.set(props, user);
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "9.4");
        try (Connection c = DriverManager.getConnection(jdbcUrl, props)) {
            PGReplicationStream stream = c.unwrap(PGConnection.class)
                    .getReplicationAPI()
                    .replicationStream()
                    .logical()
                    .withSlotName(slot)
                    .withSlotOption("proto_version", "1")
                    .withSlotOption("publication_names", slot)
                    .withStatusInterval(10, TimeUnit.SECONDS)
                    .start();
            ready.run();
            long seen = 0;
            int insertsInTxn = 0;
            while (seen < rows || insertsInTxn > 0) { // up to the commit of the last transaction
                ByteBuffer msg = stream.read();
                byte type = msg.get(msg.position());
                if (type == 'I') {
                    insertsInTxn++;
                    seen++;
                } else if (type == 'C') {
                    long micros = msg.getLong(msg.position() + 18) + PG_EPOCH_MICROS;
                    Instant commit = Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000);
                    for (int i = 0; i < insertsInTxn; i++) {
                        m.confirmed(null, commit);
                    }
                    insertsInTxn = 0;
                    stream.setFlushedLSN(stream.getLastReceiveLSN());
                }
            }
            stream.forceUpdateStatus();
            stream.close();
        }
    }
}
