package io.pgbridge.websocket;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;

/**
 * One connected listener of one channel with its own bounded queue. {@link #offer} never blocks: when more than
 * {@code queueMax} messages wait, the client is cut off, so a slow reader can never hold up the bridge. One write is
 * in flight at a time; the {@link IteratingCallback} moves to the next without recursion when writes complete at
 * once.
 */
abstract class Client {
    /** One message: the event id (for SSE) and its text; a {@code null} id is a keep-alive. */
    record Message(String id, String text) {
        static final Message HEARTBEAT = new Message(null, null);
    }

    final String channel;
    private final int queueMax;
    private final Consumer<Client> onClosed;
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    private boolean closed; // guarded by queue, as writing
    private boolean writing;

    private final IteratingCallback pump = new IteratingCallback() {
        @Override
        protected Action process() {
            Message next;
            synchronized (queue) {
                next = closed ? null : queue.poll();
                writing = next != null;
            }
            if (next == null) {
                return Action.IDLE;
            }
            write(next, this);
            return Action.SCHEDULED;
        }

        @Override
        protected void onCompleteFailure(Throwable cause) {
            Client.this.close("write failed: " + cause);
        }
    };

    Client(String channel, int queueMax, Consumer<Client> onClosed) {
        this.channel = channel;
        this.queueMax = queueMax;
        this.onClosed = onClosed;
    }

    /** Queues a message, or cuts the client off when its queue is full. Never blocks. */
    final void offer(Message message) {
        synchronized (queue) {
            if (closed) {
                return;
            }
            if (queue.size() < queueMax) {
                queue.add(message);
                message = null;
            }
        }
        if (message != null) {
            if (markClosed()) {
                onClosed.accept(this);
                cutOff("too slow: more than " + queueMax + " messages waiting");
            }
            return;
        }
        pump.iterate();
    }

    /** Whether everything queued so far has been written (or the client is gone). */
    final boolean drained() {
        synchronized (queue) {
            return closed || (queue.isEmpty() && !writing);
        }
    }

    /** Marks the client closed and tells the hub; idempotent. */
    final void close(String why) {
        if (markClosed()) {
            onClosed.accept(this);
            closed(why);
        }
    }

    private boolean markClosed() {
        synchronized (queue) {
            if (closed) {
                return false;
            }
            closed = true;
            queue.clear();
            return true;
        }
    }

    /** Writes one message; completes {@code done} when it is on the wire. */
    abstract void write(Message message, Callback done);

    /** Drops the connection of a client that fell behind. */
    abstract void cutOff(String reason);

    /** Hook after {@link #close} (not after {@link #cutOff}): release the connection if still open. */
    abstract void closed(String why);
}
