package io.pgbridge.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on 127.0.0.1 for fault tests: clients connect to {@link #port()} and are relayed to a target. {@link
 * #freezeExisting()} makes every open connection half-open — bytes stop flowing both ways, but no FIN or RST is sent —
 * which is what a dead NAT entry or a pulled cable looks like to both ends. New connections are relayed normally.
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

    private static final class Pair {
        final Socket client;
        final Socket upstream;
        volatile boolean frozen;

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

    /** Stops relaying on every connection open now, without closing them. */
    public void freezeExisting() {
        for (Pair p : pairs) {
            p.frozen = true;
        }
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
                pump(pair, client, upstream, "up");
                pump(pair, upstream, client, "down");
            } catch (IOException e) {
                closeQuietly(client); // the target refused: the client sees its connection closed
            }
        }
    }

    private void pump(Pair pair, Socket from, Socket to, String direction) {
        Thread t = new Thread(
                () -> {
                    byte[] buf = new byte[8192];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int n;
                        while ((n = in.read(buf)) >= 0) {
                            if (pair.frozen) {
                                continue; // swallow: the peer never hears of it
                            }
                            out.write(buf, 0, n);
                            out.flush();
                        }
                    } catch (IOException e) {
                        // one side closed; close the other unless frozen (a frozen link stays silent)
                    } finally {
                        if (!pair.frozen) {
                            closeQuietly(from);
                            closeQuietly(to);
                        }
                    }
                },
                "tcp-relay-" + direction + "-" + port());
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
