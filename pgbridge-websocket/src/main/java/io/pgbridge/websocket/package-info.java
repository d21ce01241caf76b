/**
 * The WebSocket sink: an embedded server (Jetty 12) that pushes routed events to WebSocket and Server-Sent Events
 * clients, with a viewer page; selected by {@code PGBRIDGE_UPSTREAM_URI=ws://127.0.0.1:7700}. Delivery to clients is
 * at-most-once. Start at {@link io.pgbridge.websocket.WebSocketSink}.
 */
package io.pgbridge.websocket;
