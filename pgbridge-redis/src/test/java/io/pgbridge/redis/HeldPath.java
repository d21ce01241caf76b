package io.pgbridge.redis;

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
 * A TCP relay on 127.0.0.1 to a Redis whose network path can hold bytes and deliver them late, as a path that froze
 * and came back: {@link #holdExisting()} makes every open connection keep what its client sends (Redis does not see
 * it, nor the client's close) and drop what Redis answers; {@link #releaseHeld()} then sends Redis what was kept, and
 * closes towards Redis what the client closed meanwhile; {@link #cutHeld()} closes held connections towards the client
 * only, as a path that broke on the client's side while Redis still has the connection. New connections are relayed
 * normally.
 */
final class HeldPath implements AutoCloseable {
    private final ServerSocket server;
    private final String host;
    private final int port;
    private final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private static final class Pair {
        final Socket client;
        final Socket upstream;
        final ByteArrayOutputStream kept = new ByteArrayOutputStream(); // guarded by this
        boolean held; // guarded by this
        boolean clientClosed; // guarded by this

        Pair(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }
    }

    HeldPath(String host, int port) throws IOException {
        this.host = host;
        this.port = port;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "held-path-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    void holdExisting() {
        for (Pair p : pairs) {
            synchronized (p) {
                p.held = true;
            }
        }
    }

    /** Whether a held connection kept bytes holding {@code text} (US-ASCII). */
    boolean kept(String text) {
        for (Pair p : pairs) {
            synchronized (p) {
                if (p.kept.toString(StandardCharsets.ISO_8859_1).contains(text)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Closes every held connection towards its client (the client sees it closed by the peer), while Redis keeps it
     * open and {@link #releaseHeld()} still delivers what it kept.
     */
    void cutHeld() {
        for (Pair p : pairs) {
            synchronized (p) {
                if (p.held) {
                    closeQuietly(p.client);
                }
            }
        }
    }

    /** Sends Redis what every held connection kept; a write Redis refuses (it closed that client) is ignored. */
    void releaseHeld() {
        for (Pair p : pairs) {
            synchronized (p) {
                if (!p.held) {
                    continue;
                }
                p.held = false;
                try {
                    OutputStream out = p.upstream.getOutputStream();
                    p.kept.writeTo(out);
                    out.flush();
                    if (p.clientClosed) {
                        p.upstream.shutdownOutput(); // after the kept bytes, as the path would have carried it
                    }
                } catch (IOException e) {
                    closeQuietly(p.upstream); // Redis closed that client meanwhile
                }
                p.kept.reset();
            }
        }
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(host, port);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                Pair pair = new Pair(client, upstream);
                pairs.add(pair);
                pump(pair, true);
                pump(pair, false);
            } catch (IOException e) {
                // the relay was closed (the loop ends), or one connection failed
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
                            synchronized (pair) {
                                if (pair.held) {
                                    if (up) {
                                        pair.kept.write(buf, 0, n);
                                    }
                                    continue; // a reply on a held path is lost
                                }
                                out.write(buf, 0, n);
                                out.flush();
                            }
                        }
                    } catch (IOException e) {
                        // one side closed
                    }
                    synchronized (pair) {
                        if (up && pair.held) {
                            pair.clientClosed = true; // Redis hears of it on release
                            return;
                        }
                    }
                    closeQuietly(from);
                    closeQuietly(to);
                },
                "held-path-" + (up ? "up" : "down"));
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
