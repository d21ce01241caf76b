package io.pgbridge.websocket;

import static org.awaitility.Awaitility.await;

import io.pgbridge.Target;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.sinktck.SinkCompatibilityKit;
import io.pgbridge.spi.Sink;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The sink compatibility kit where it applies to a sink that is a server: order, confirmation, close, UTF-8 payloads.
 * There is no broker to lose, text messages carry neither id nor headers, and payloads must be UTF-8.
 */
class WebSocketSinkCompatibilityIT extends SinkCompatibilityKit {
    private WebSocketSink sink;

    @Override
    protected Sink createSink(String uri) {
        sink = (WebSocketSink) new WebSocketSinkProvider().create(sinkConfig(uri, Map.of()));
        return sink;
    }

    @Override
    protected String brokerUri() {
        return "ws://127.0.0.1:0";
    }

    @Override
    protected Target newTarget() {
        return Target.topic("kit-" + UUID.randomUUID().toString().substring(0, 8));
    }

    @Override
    protected Receiver receiver(Target target) throws Exception {
        Listener listener =
                Listener.connect(URI.create("ws://127.0.0.1:" + sink.port() + "/listen/" + target.name()), Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.connectedClients(target.name()) == 1);
        return new Receiver() {
            @Override
            public List<Received> received() {
                return listener.messages.stream()
                        .map(m -> new Received(m.getBytes(StandardCharsets.UTF_8), null, Map.of()))
                        .collect(Collectors.toList());
            }

            @Override
            public void close() {
                listener.socket.abort();
            }
        };
    }

    @Override
    protected boolean carriesEventId() {
        return false;
    }

    @Override
    protected boolean carriesHeaders() {
        return false;
    }

    @Override
    protected boolean binarySafe() {
        return false;
    }
}
