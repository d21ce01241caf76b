package io.pgbridge.internal.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbridge.InMemorySink;
import io.pgbridge.PgBridge;
import io.pgbridge.SourceState;
import io.pgbridge.SourceStats;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.PgConnector;
import io.pgbridge.internal.config.PostgresUri;
import io.pgbridge.testkit.TestServices;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A replication stream that fails at the same message every time (here a decoder that cannot parse it) does not
 * reconnect in a tight loop with nothing to show: its backoff grows from session to session, and after a few identical
 * failures the source reports {@link SourceState#FAILED} with the reason, while it keeps trying. Once the stream gets
 * past that place it is {@link SourceState#READING} again.
 */
class WalPoisonIT {
    private static final byte[] POISON = "unparseable".getBytes(StandardCharsets.US_ASCII);

    private volatile boolean poisonous = true;

    @Test
    void aStreamThatFailsAtTheSameMessageAgainAndAgainBacksOffAndShowsFailed() throws Exception {
        try (WalFixture f = new WalFixture()) {
            f.exec("CREATE TABLE " + f.schema + ".t (id int PRIMARY KEY)");
            String url = TestServices.postgresUrl();
            WalSource source = WalSource.forPublication(
                    "wal",
                    new PgConnector(PostgresUri.parse(url), null, null, "pgbridge-poison-it"),
                    WalOptions.builder()
                            .statusInterval(Duration.ofMillis(200))
                            .reconnectMaxBackoff(Duration.ofSeconds(2))
                            .build(),
                    f.slot,
                    f.slot,
                    Set.of(f.schema + ".t"),
                    emitter -> {
                        PgOutputEvents events = new PgOutputEvents(emitter, SlotMonitor.PREFIX, new BackfillWindows());
                        return (message, lsn) -> {
                            if (poisonous && contains(message, POISON)) {
                                throw new IllegalStateException("cannot parse the message at " + lsn);
                            }
                            events.decode(message, lsn);
                        };
                    });
            InMemorySink sink = new InMemorySink();
            try (PgBridge bridge = PgBridge.builder()
                    .postgres(url)
                    .routes(f.schema + ".t->queue:t")
                    .source(source)
                    .sink(sink)
                    .build()) {
                bridge.start();
                f.exec(
                        "INSERT INTO " + f.schema + ".t VALUES (1)",
                        "SELECT pg_logical_emit_message(true, 'poison', 'unparseable')",
                        "INSERT INTO " + f.schema + ".t VALUES (2)");

                sink.await(1, Duration.ofSeconds(30));
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    SourceStats wal = bridge.stats().sources().get(0);
                    assertThat(wal.state()).isEqualTo(SourceState.FAILED);
                    assertThat(wal.reason()).contains("again and again").contains("cannot parse the message");
                });
                assertThat(sink.payloads())
                        .as("nothing past the failing message")
                        .hasSize(1);

                poisonous = false; // the cause is fixed (a new version that can parse it)
                sink.await(2, Duration.ofSeconds(30));
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                                bridge.stats().sources().get(0).state())
                        .isEqualTo(SourceState.READING));
            }
        }
    }

    private static boolean contains(ByteBuffer message, byte[] needle) {
        byte[] bytes = new byte[message.remaining()];
        message.duplicate().get(bytes);
        outer:
        for (int i = 0; i + needle.length <= bytes.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (bytes[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
