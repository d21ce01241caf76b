package io.pgbridge.sinktck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The contract of a sink that connects to a broker or an endpoint, on top of {@link SinkCompatibilityKit}'s:
 *
 * <ul>
 *   <li>a sink that cannot reach its broker fails {@link Sink#start()} with a {@link ConnectionException} that names
 *       the endpoint but not the password, and does not keep reconnecting after that;
 *   <li>while the broker is down nothing is reported confirmed and the failure is reported, not swallowed; once the
 *       broker is back, publishing works again.
 * </ul>
 *
 * <p>The broker is stopped and started through {@link #stopBroker()}/{@link #startBroker()}, for a few seconds, and
 * always restarted. The sink must therefore be created with a publish timeout well under {@link #WAIT} (a few
 * seconds), so that a publish to a stopped broker returns a failure in time.
 */
public abstract class BrokerSinkCompatibilityKit extends SinkCompatibilityKit {
    private static final String PASSWORD = "kit-secret-password";

    /** The broker, for {@link TestServices#stop}/{@link TestServices#start}. */
    protected abstract TestServices.Service service();

    /** Stops the broker for the outage test. Default: {@link TestServices#stop} of {@link #service()}. */
    protected void stopBroker() {
        TestServices.stop(service());
    }

    /** Starts the broker again after the outage test. Default: {@link TestServices#start} of {@link #service()}. */
    protected void startBroker() {
        TestServices.start(service());
    }

    @Test
    void failsToStartWithAClearErrorThatHidesThePasswordWhenTheBrokerIsUnreachable() throws Exception {
        int port = unusedPort();
        Sink unreachable = open(createSink(endpoint(brokerUri(), port)));

        assertThatThrownBy(() -> assertTimeoutPreemptively(WAIT, unreachable::start))
                .as("start() against a port nobody listens on")
                .isInstanceOf(ConnectionException.class)
                .hasMessageContaining(Integer.toString(port))
                .hasMessageNotContaining(PASSWORD);
    }

    @Test
    void connectsOnceWhenTheBrokerHangsUpAtStartInsteadOfRetryingInALoop() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        try (ServerSocket hangsUp = new ServerSocket(0)) {
            Thread acceptor = new Thread(() -> acceptAndClose(hangsUp, connections), "pgbridge-kit-hangs-up");
            acceptor.setDaemon(true);
            acceptor.start();
            Sink sink = open(createSink(endpoint(brokerUri(), hangsUp.getLocalPort())));

            assertThatThrownBy(() -> assertTimeoutPreemptively(WAIT, sink::start))
                    .as("start() against a server that closes every connection")
                    .isInstanceOf(ConnectionException.class)
                    .hasMessageNotContaining(PASSWORD);
            int attempts = connections.get();
            await("no further connection attempts after start() failed")
                    .during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> connections.get() == attempts);
        }
    }

    @Test
    void confirmsNothingWhileTheBrokerIsDownAndRecoversWhenItReturns() throws Exception {
        Event duringOutage = textEvents(1).get(0);
        stopBroker();
        try {
            PublishResult result =
                    assertTimeoutPreemptively(WAIT, () -> sink().publish(target(), List.of(duringOutage)));
            assertThat(result.confirmed())
                    .as("events confirmed while the broker is down (%s)", result)
                    .isZero();
            assertThat(result.reason()).as("the failure is reported").isNotBlank();
        } finally {
            startBroker();
        }

        Receiver receiver = open(receiver(target()));
        Event afterOutage = textEvents(1).get(0);
        await("the sink publishes again once the broker is back")
                .atMost(WAIT.multipliedBy(2))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> sink().publish(target(), List.of(afterOutage)).confirmed() == 1);
        await().atMost(WAIT).untilAsserted(() -> assertThat(texts(receiver.received()))
                .as("received after the outage")
                .contains(afterOutage.payloadAsString()));
    }

    private static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void acceptAndClose(ServerSocket server, AtomicInteger connections) {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                connections.incrementAndGet();
            } catch (IOException e) {
                return; // the server socket was closed: the test is over
            }
        }
    }

    /** {@code uri} with the kit's user and password, on 127.0.0.1 at {@code port}. */
    private static String endpoint(String uri, int port) {
        String authority = URI.create(uri).getRawAuthority();
        int start = uri.indexOf(authority);
        return uri.substring(0, start) + "pgbridge-kit:" + PASSWORD + "@127.0.0.1:" + port
                + uri.substring(start + authority.length());
    }
}
