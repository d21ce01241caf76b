package io.pgbridge.webhook;

import com.sun.net.httpserver.HttpServer;
import io.pgbridge.Target;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.sinktck.RetriedRefusal;
import io.pgbridge.sinktck.RetriedRefusal.Outcome;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Duplicates after k retries do not depend on k, against a local HTTP endpoint: it answers 503 to the 11th event of a
 * 40-event batch until the test says it is back, and 200 to everything else. The sink POSTs one event at a time, so
 * nothing behind the refused event was sent: no duplicates, whether the bridge retried it 2 or 8 times. See {@link
 * RetriedRefusal}.
 */
class WebhookRefusalRetriesIT {
    private static final int EVENTS = 40;
    private static final int REFUSED = 10;

    private HttpServer server;
    private final List<Received> accepted = new ArrayList<>();
    private final AtomicBoolean unavailable = new AtomicBoolean();

    @BeforeEach
    void startEndpoint() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            int status = 200;
            if (!exchange.getRequestMethod().equals("POST")) {
                status = 405; // the sink's reachability check at start
            } else if (unavailable.get() && id.endsWith("-" + REFUSED)) {
                status = 503;
            } else {
                synchronized (accepted) {
                    accepted.add(new Received(body, id, Map.of()));
                }
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopEndpoint() {
        server.stop(0);
    }

    @Test
    void a503RetriedTwiceOrEightTimesAddsNoDuplicates() throws Exception {
        RetriedRefusal.assertRetriesAddNothing(unavailable(2), unavailable(8), "answered HTTP 503", false);
    }

    private Outcome unavailable(int retries) throws Exception {
        synchronized (accepted) {
            accepted.clear();
        }
        unavailable.set(true);
        Receiver receiver = new Receiver() {
            @Override
            public List<Received> received() {
                synchronized (accepted) {
                    return new ArrayList<>(accepted);
                }
            }

            @Override
            public void close() {}
        };
        return RetriedRefusal.run(
                new WebhookSinkProvider()
                        .create(SinkCompatibilityKit.sinkConfig(
                                "http://127.0.0.1:" + server.getAddress().getPort() + "/hook", Map.of())),
                Target.topic("refusals"),
                receiver,
                EVENTS,
                REFUSED,
                retries,
                (i, event) -> event,
                () -> unavailable.set(false));
    }
}
