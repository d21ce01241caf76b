package io.pgbridge.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on 127.0.0.1 for fault tests: clients connect to {@link #port()} and are relayed to a target (the
 * service). Each accepted connection is a <em>path</em> with two legs, client to relay and relay to service, and a
 * pump thread per direction: "up" carries what the client sends, "down" what the service answers. New connections are
 * always relayed normally; the fault methods act on the paths open when they are called. A path is in one of three
 * states:
 *
 * <ul>
 *   <li><b>relaying</b> (every path starts so): bytes pass both ways as read; when one side closes, the relay closes
 *       both legs.
 *   <li><b>frozen</b> ({@link #freezeExisting()}; final): the path goes silent, as a dead NAT entry or a pulled cable
 *       looks to both ends — bytes read from either side are dropped, neither side is told anything, and no FIN or
 *       RST is sent. Only if one side closes its own leg does the relay close both legs (so the other side then sees
 *       the close).
 *   <li><b>held</b> ({@link #holdExisting()}): the path froze but will come back, delivering late what was sent into
 *       it — bytes the client sends are kept in the relay (the service sees nothing), bytes the service sends are
 *       dropped (replies on a held path are lost). If the client closes its leg, the service is not told; its leg
 *       stays open. {@link #releaseHeld()} returns held paths to relaying: it first writes to the service what was
 *       kept, then, if the client closed meanwhile, shuts down the service leg's output (a FIN after the kept bytes,
 *       as the path would have carried it). {@link #cutHeld()} closes held paths towards the client only, as a path
 *       that broke on the client's side while the service still has the connection; release still delivers what
 *       was kept. {@link #kept(String)} looks into what held paths kept.
 * </ul>
 *
 * <p>Threading: every method may be called from any thread. Each path's state changes, kept bytes and every write
 * towards the service are guarded by that path's monitor, so the bytes {@link #releaseHeld()} delivers reach the
 * service before anything the client sends after the release. Writes towards the client take no lock (the service's
 * replies never wait for the up pump, which may be blocked writing to a service that is not reading), so a reply read
 * just as a path is held may still reach the client. {@link #freezeExisting()} takes no lock (it works even while a
 * pump is blocked writing to a peer that does not read); a write already under way when a path freezes still
 * completes. {@link #holdExisting()}, {@link #releaseHeld()}, {@link #cutHeld()} and {@link #kept(String)} wait for a
 * write towards the service under way on the same path to finish.
 *
 * <p>Both legs of a relayed connection have {@code TCP_NODELAY} set, so that the relay forwards each read at once:
 * without it, a request written in two pieces (an HTTP client's headers, then its body) waits in the relay for the
 * peer's delayed acknowledgement (about 40 ms on Linux) before its second piece leaves, which made every webhook POST
 * through a relay some 20 times slower than without one.
 */
public final class TcpRelay implements AutoCloseable {
    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private enum State {
        RELAYING,
        FROZEN,
        HELD
    }

    private static final class Pair {
        final Socket client;
        final Socket upstream;
        final ByteArrayOutputStream kept = new ByteArrayOutputStream(); // guarded by this
        volatile State state = State.RELAYING; // changed under this, except to FROZEN
        boolean clientClosed; // guarded by this: the client closed while the path was held

        Pair(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }
    }

    public TcpRelay(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "tcp-relay-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /**
     * Stops relaying on every connection open now, without closing them: bytes either way are dropped from now on.
     * Final for those connections; a held one is frozen too, and what it kept is never delivered.
     */
    public void freezeExisting() {
        for (Pair p : pairs) {
            p.state = State.FROZEN;
        }
    }

    /**
     * Holds every relaying connection open now: from now on it keeps what its client sends (the service sees none of
     * it, nor the client's close) and drops what the service answers, until {@link #releaseHeld()}. Frozen connections
     * stay frozen.
     */
    public void holdExisting() {
        for (Pair p : pairs) {
            synchronized (p) {
                if (p.state == State.RELAYING) {
                    p.state = State.HELD;
                }
            }
        }
    }

    /**
     * Sends the service what every held connection kept, then relays those connections normally again; if the client
     * closed a held connection (or {@link #cutHeld()} did), the service leg's output is shut down after the kept
     * bytes. A write the service refuses (it closed that connection meanwhile) closes the service leg and is otherwise
     * ignored.
     */
    public void releaseHeld() {
        for (Pair p : pairs) {
            synchronized (p) {
                if (p.state != State.HELD) {
                    continue;
                }
                p.state = State.RELAYING;
                try {
                    OutputStream out = p.upstream.getOutputStream();
                    p.kept.writeTo(out);
                    out.flush();
                    if (p.clientClosed) {
                        p.upstream.shutdownOutput();
                    }
                } catch (IOException e) {
                    closeQuietly(p.upstream);
                }
                p.kept.reset();
            }
        }
    }

    /**
     * Closes every held connection towards its client (the client sees it closed by the peer), while the service keeps
     * it open and {@link #releaseHeld()} still delivers what it kept.
     */
    public void cutHeld() {
        for (Pair p : pairs) {
            synchronized (p) {
                if (p.state == State.HELD) {
                    closeQuietly(p.client);
                }
            }
        }
    }

    /**
     * Whether a held connection kept, and has not yet released, bytes containing {@code text} (compared as ISO-8859-1,
     * so any ASCII text matches byte for byte).
     */
    public boolean kept(String text) {
        for (Pair p : pairs) {
            synchronized (p) {
                if (p.kept.toString(StandardCharsets.ISO_8859_1).contains(text)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** How many connections were ever accepted. */
    public int connectionsAccepted() {
        return pairs.size();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                continue; // the relay was closed (the loop ends) or one accept failed
            }
            try {
                Socket upstream = new Socket(targetHost, targetPort);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                Pair pair = new Pair(client, upstream);
                pairs.add(pair);
                pump(pair, true);
                pump(pair, false);
            } catch (IOException e) {
                closeQuietly(client); // the target refused: the client sees its connection closed
            }
        }
    }

    private void pump(Pair pair, boolean up) {
        Socket from = up ? pair.client : pair.upstream;
        Socket to = up ? pair.upstream : pair.client;
        Thread t = new Thread(
                () -> {
                    byte[] buf = new byte[8192];
                    try {
                        InputStream in = from.getInputStream();
                        OutputStream out = to.getOutputStream();
                        int n;
                        while ((n = in.read(buf)) >= 0) {
                            if (pair.state == State.FROZEN) {
                                continue; // swallow: the peer never hears of it
                            }
                            if (!up) {
                                // unlocked: a service that waits for its replies to be read before it reads again
                                // must not wait on the up pump, blocked writing to that service under the lock
                                if (pair.state == State.RELAYING) {
                                    out.write(buf, 0, n);
                                    out.flush();
                                }
                                continue; // a reply on a held path is lost
                            }
                            synchronized (pair) {
                                if (pair.state == State.HELD) {
                                    pair.kept.write(buf, 0, n);
                                    continue;
                                }
                                if (pair.state == State.FROZEN) {
                                    continue;
                                }
                                out.write(buf, 0, n);
                                out.flush();
                            }
                        }
                    } catch (IOException e) {
                        // one side closed, or a write to the other failed
                    }
                    if (up) {
                        synchronized (pair) {
                            if (pair.state == State.HELD) {
                                pair.clientClosed = true; // the service hears of it on release
                                return;
                            }
                        }
                    }
                    closeQuietly(from);
                    closeQuietly(to);
                },
                "tcp-relay-" + (up ? "up" : "down") + "-" + port());
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // test helper: nothing to do
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Pair p : pairs) {
            closeQuietly(p.client);
            closeQuietly(p.upstream);
        }
    }
}
