package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.testkit.TcpRelay;
import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A replication connection whose network path dies silently (no FIN, no RST) is taken for dead once a heartbeat
 * written after the last traffic has not come back, and the stream resumes on a new connection. Found by
 * pgbridge-chaos (FREEZE_POSTGRES_PATH): before, the reader polled the frozen connection for good.
 */
class WalHalfOpenIT {
    @Test
    void aFrozenReplicationConnectionIsReplacedAndTheStreamResumes() throws Exception {
        URI pg = URI.create(TestServices.postgresUrl());
        try (WalFixture db = new WalFixture();
                TcpRelay relay = new TcpRelay(pg.getHost(), pg.getPort() > 0 ? pg.getPort() : 5432)) {
            String viaRelay = pg.getScheme() + "://" + (pg.getRawUserInfo() == null ? "" : pg.getRawUserInfo() + "@")
                    + "127.0.0.1:" + relay.port() + pg.getRawPath();
            String table = db.schema + ".items";
            db.exec("CREATE TABLE " + table + " (id int PRIMARY KEY)");
            InMemorySink sink = new InMemorySink();
            try (PgBridge bridge = db.bridge(table + "->queue:items", sink)
                    .postgres(viaRelay)
                    .shutdownTimeout(Duration.ofSeconds(2))
                    .build()) {
                bridge.start();
                db.exec("INSERT INTO " + table + " VALUES (1)");
                assertThat(sink.await(1, Duration.ofSeconds(30))).hasSize(1);
                int connections = relay.connectionsAccepted();

                relay.freezeExisting();
                db.exec("INSERT INTO " + table + " VALUES (2)");

                // the heartbeat connection is frozen too (its socket timeout is 30 s), and the server keeps the old
                // walsender, and so the slot, until its wal_sender_timeout (60 s by default)
                assertThat(sink.await(2, Duration.ofMinutes(3)))
                        .as("the row written after the freeze, through a new replication connection")
                        .hasSize(2);
                assertThat(relay.connectionsAccepted()).isGreaterThan(connections);
            }
        }
    }
}
