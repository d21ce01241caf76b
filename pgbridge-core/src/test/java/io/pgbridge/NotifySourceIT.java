package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgbridge.testkit.TcpRelay;
import io.pgbridge.testkit.TestServices;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The NOTIFY source against a real PostgreSQL, with the in-memory sink. */
class NotifySourceIT {
    private final String suffix = UUID.randomUUID().toString().substring(0, 8);
    private final String channel = "events_" + suffix;
    private final String appName = "pgbridge-it-" + suffix;
    private final InMemorySink sink = new InMemorySink();
    private PgBridge bridge;

    @AfterEach
    void close() {
        if (bridge != null) {
            bridge.close();
        }
    }

    private PgBridge.Builder builder(String postgresUrl) {
        return PgBridge.builder()
                .postgres(postgresUrl)
                .routes(channel + "->exchange:amq.topic")
                .setting("postgresql.application-name", appName)
                .setting("notify.probe-interval-ms", "500")
                .setting("notify.probe-timeout-ms", "2000")
                .sink(sink);
    }

    private void start(PgBridge.Builder builder) {
        bridge = builder.build();
        bridge.start();
    }

    @Test
    void splitsTheSeedsRoutingKeyAndPassesPayloadsThroughByteExact() throws Exception {
        start(builder(TestServices.postgresUrl()));
        String big = "x".repeat(7999);
        String unicode = "héllo 👋 שלום ‏עולם e\u0301 日本語 {\"json\": [1, \"a|b\"]}";
        notify("signup|A new user signup");
        notify(big);
        notify(unicode);
        notify("{\"id\": 1, \"note\": \"a|b\"}");

        List<Event> events = sink.await(4, Duration.ofSeconds(10));

        assertThat(events.get(0).routingKey()).isEqualTo("signup");
        assertThat(events.get(0).payloadAsString()).isEqualTo("A new user signup");
        assertThat(events.get(0).channel()).isEqualTo(channel);
        assertThat(events.get(0).source()).isEqualTo("notify");
        assertThat(events.get(1).payload())
                .as("7999 bytes, PostgreSQL's limit")
                .hasSize(7999)
                .isEqualTo(big.getBytes(StandardCharsets.UTF_8));
        assertThat(events.get(1).routingKey()).isNull();
        assertThat(events.get(2).payload()).isEqualTo(unicode.getBytes(StandardCharsets.UTF_8));
        assertThat(events.get(2).routingKey())
                .as("whitespace before the bar: not a routing key")
                .isNull();
        assertThat(events.get(3).payloadAsString()).isEqualTo("{\"id\": 1, \"note\": \"a|b\"}");
        assertThat(events.get(3).contentType()).isEqualTo("application/json");
        assertThat(events).extracting(Event::id).doesNotHaveDuplicates();
    }

    @Test
    void theRoutingKeyConventionCanBeTurnedOff() throws Exception {
        start(builder(TestServices.postgresUrl()).setting("notify.routing-key-from-payload", "false"));
        notify("a|b");

        Event event = sink.await(1, Duration.ofSeconds(10)).get(0);
        assertThat(event.routingKey()).isNull();
        assertThat(event.payloadAsString()).isEqualTo("a|b");
    }

    @Test
    void reconnectsAfterTheListenBackendIsTerminated() throws Exception {
        start(builder(TestServices.postgresUrl()));
        int before = listenBackend();
        try (Connection c = TestServices.postgresConnection();
                PreparedStatement st = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
            st.setInt(1, before);
            st.execute();
        }

        await().atMost(Duration.ofSeconds(30))
                .until(() -> listenBackendOrZero() != 0 && listenBackendOrZero() != before);
        notify("after the gap");
        assertThat(sink.await(1, Duration.ofSeconds(10)).get(0).payloadAsString())
                .isEqualTo("after the gap");
    }

    @Test
    void listensAgainAfterPostgresRestarts() throws Exception {
        start(builder(TestServices.postgresUrl()));
        TestServices.stop(TestServices.Service.POSTGRES);
        try {
            notifyQuietly("lost while PostgreSQL is down");
        } finally {
            TestServices.start(TestServices.Service.POSTGRES);
        }

        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    notifyQuietly("after restart");
                    return !sink.events().isEmpty();
                });
        assertThat(sink.events().get(0).payloadAsString()).isEqualTo("after restart");
        assertThat(bridge.state()).isEqualTo(PgBridge.State.RUNNING);
    }

    @Test
    void detectsAHalfOpenConnectionAndListensAgain() throws Exception {
        URI pg = URI.create(TestServices.postgresUrl());
        try (TcpRelay relay = new TcpRelay(pg.getHost(), pg.getPort() > 0 ? pg.getPort() : 5432)) {
            String viaRelay = pg.getScheme() + "://" + (pg.getRawUserInfo() == null ? "" : pg.getRawUserInfo() + "@")
                    + "127.0.0.1:" + relay.port() + pg.getRawPath();
            start(builder(viaRelay));
            int connections = relay.connectionsAccepted();
            relay.freezeExisting();

            // NOTIFYs on the frozen connection are lost; the source must notice and LISTEN again on a new one.
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        notify("probe");
                        return !sink.events().isEmpty();
                    });
            assertThat(relay.connectionsAccepted()).isGreaterThan(connections);
        }
    }

    @Test
    void startFailsClearlyWhenPostgresCannotBeReached() {
        PgBridge unreachable =
                builder("postgresql://app:hunter2@127.0.0.1:1/app").build();

        assertThatThrownBy(unreachable::start)
                .isInstanceOf(ConnectionException.class)
                .hasMessageContaining("Cannot LISTEN on jdbc:postgresql://127.0.0.1:1/app")
                .hasMessageNotContaining("hunter2");
        assertThat(unreachable.state()).isEqualTo(PgBridge.State.CLOSED);
    }

    private void notify(String payload) throws SQLException {
        try (Connection c = TestServices.postgresConnection();
                PreparedStatement st = c.prepareStatement("SELECT pg_notify(?, ?)")) {
            st.setString(1, channel);
            st.setString(2, payload);
            st.execute();
        }
    }

    private void notifyQuietly(String payload) {
        try {
            notify(payload);
        } catch (SQLException e) {
            // PostgreSQL is still starting: the next poll tries again
        }
    }

    private int listenBackend() throws SQLException {
        int pid = listenBackendOrZero();
        assertThat(pid).as("the bridge's LISTEN backend").isNotZero();
        return pid;
    }

    private int listenBackendOrZero() throws SQLException {
        try (Connection c = TestServices.postgresConnection();
                PreparedStatement st =
                        c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ?")) {
            st.setString(1, appName);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }
}
