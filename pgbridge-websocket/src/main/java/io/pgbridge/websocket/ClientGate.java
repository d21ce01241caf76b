package io.pgbridge.websocket;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/**
 * Decides whether a request may listen to a channel, before any upgrade: loopback Host (when bound to loopback),
 * Origin, channel allow-list, bearer token and its scope, connection cap. The checks follow RELIABILITY.md section 3.3
 * (cross-site WebSocket hijacking: browsers send cookies and no CORS applies to WebSocket, so the Origin is the
 * guard).
 */
final class ClientGate {
    /** Why a request is refused: an HTTP status and a message that names no secret. */
    record Refusal(int status, String message) {}

    private final WebSocketConfig config;
    private final ChannelHub hub;
    private final boolean loopbackOnly;

    ClientGate(WebSocketConfig config, ChannelHub hub) {
        this.config = config;
        this.hub = hub;
        this.loopbackOnly = isLoopback(config.host());
    }

    /** {@code null} when the request may listen to {@code channel}. */
    Refusal check(Request request, String channel) {
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (loopbackOnly && (host == null || !isLoopback(hostName(host)))) {
            return new Refusal(403, "Host '" + host + "' is not a loopback name; the server is bound to loopback");
        }
        String origin = request.getHeaders().get(HttpHeader.ORIGIN);
        if (origin != null) {
            String o = origin.toLowerCase(Locale.ROOT);
            boolean sameOrigin = host != null
                    && (o.equals("http://" + host.toLowerCase(Locale.ROOT))
                            || o.equals("https://" + host.toLowerCase(Locale.ROOT)));
            if (!sameOrigin && !config.originListed(o)) {
                return new Refusal(403, "Origin '" + origin + "' is not allowed (websocket.allowed-origins)");
            }
        }
        if (channel.isEmpty() || channel.contains("/") || !config.channelAllowed(channel)) {
            return new Refusal(403, "channel '" + channel + "' is not allowed (websocket.channels)");
        }
        if (config.requiresToken()) {
            String token = token(request);
            if (token == null || !config.tokenKnown(token)) {
                return new Refusal(401, "a valid bearer token is required");
            }
            if (!config.tokenAllows(token, channel)) {
                return new Refusal(403, "the token does not cover channel '" + channel + "'");
            }
        }
        if (hub.connected() >= config.maxConnections()) {
            return new Refusal(503, "too many connections (websocket.max-connections=" + config.maxConnections() + ")");
        }
        return null;
    }

    /** {@code Authorization: Bearer <token>}, else {@code ?access_token=} (browsers cannot set WebSocket headers). */
    private static String token(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return auth.substring(7).trim();
        }
        Fields query = Request.extractQueryParameters(request);
        return query.getValue("access_token");
    }

    private static String hostName(String hostHeader) {
        if (hostHeader.startsWith("[")) {
            int end = hostHeader.indexOf(']');
            return end < 0 ? hostHeader : hostHeader.substring(0, end + 1);
        }
        int colon = hostHeader.indexOf(':');
        return colon < 0 ? hostHeader : hostHeader.substring(0, colon);
    }

    private static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return true;
        }
        if (!h.matches("[0-9.]+") && !h.contains(":")) {
            return false; // a name other than localhost: do not resolve it here
        }
        try {
            return InetAddress.getByName(h.replace("[", "").replace("]", "")).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
