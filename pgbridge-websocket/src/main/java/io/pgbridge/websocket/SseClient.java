package io.pgbridge.websocket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client on {@code /events/{channel}} (Server-Sent Events, WHATWG HTML section 9.2): each event is {@code id:}
 * the event id and one {@code data:} line per payload line; keep-alives are comment lines.
 */
final class SseClient extends Client {
    private static final Logger log = LoggerFactory.getLogger(SseClient.class);

    private final Response response;
    private final Callback exchange;

    SseClient(String channel, int queueMax, Response response, Callback exchange, Consumer<Client> onClosed) {
        super(channel, queueMax, onClosed);
        this.response = response;
        this.exchange = exchange;
    }

    @Override
    void write(Message message, Callback done) {
        StringBuilder sb = new StringBuilder();
        if (message.id() == null) {
            sb.append(": keep-alive\n\n");
        } else {
            sb.append("id: ").append(message.id().replaceAll("[\r\n]", "")).append('\n');
            for (String line : message.text().split("\r\n|\r|\n", -1)) {
                sb.append("data: ").append(line).append('\n');
            }
            sb.append('\n');
        }
        response.write(false, ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)), done);
    }

    @Override
    void cutOff(String reason) {
        log.info("Disconnecting SSE client of channel {}: {}", channel, reason);
        exchange.failed(new IOException(reason));
    }

    @Override
    void closed(String why) {
        exchange.failed(new IOException(why));
        log.debug("SSE client of channel {} gone: {}", channel, why);
    }
}
