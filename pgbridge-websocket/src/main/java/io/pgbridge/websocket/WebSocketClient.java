package io.pgbridge.websocket;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Jetty endpoint of one client on {@code /listen/{channel}}: each event's payload is one text message; incoming
 * messages are ignored. Public only because Jetty calls the listener methods through public method handles;
 * applications never create or call it.
 */
public final class WebSocketClient extends Client implements Session.Listener.AutoDemanding {
    private static final Logger log = LoggerFactory.getLogger(WebSocketClient.class);

    private final Scheduler scheduler;
    private final Consumer<Client> onOpen;
    private volatile Session session;

    WebSocketClient(
            String channel, int queueMax, Scheduler scheduler, Consumer<Client> onOpen, Consumer<Client> onClosed) {
        super(channel, queueMax, onClosed);
        this.scheduler = scheduler;
        this.onOpen = onOpen;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        onOpen.accept(this);
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, org.eclipse.jetty.websocket.api.Callback callback) {
        close("closed by client (" + statusCode + ")");
        callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        close("error: " + cause);
    }

    @Override
    void write(Message message, Callback done) {
        Session s = session;
        if (message.id() == null) {
            s.sendPing(
                    ByteBuffer.allocate(0),
                    org.eclipse.jetty.websocket.api.Callback.from(done::succeeded, done::failed));
        } else {
            s.sendText(message.text(), org.eclipse.jetty.websocket.api.Callback.from(done::succeeded, done::failed));
        }
    }

    @Override
    void cutOff(String reason) {
        Session s = session;
        log.info("Disconnecting WebSocket client {} of channel {}: {}", s.getRemoteSocketAddress(), channel, reason);
        // The close frame queues behind the unsent messages, so a stuck client may never read it: cut the
        // connection shortly after regardless.
        s.close(StatusCode.POLICY_VIOLATION, "too slow", org.eclipse.jetty.websocket.api.Callback.NOOP);
        scheduler.schedule(s::disconnect, 1, TimeUnit.SECONDS);
    }

    @Override
    void closed(String why) {
        Session s = session;
        if (s != null && s.isOpen()) {
            s.close(StatusCode.SHUTDOWN, "server closing", org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
        log.debug("WebSocket client of channel {} gone: {}", channel, why);
    }
}
