package io.pgbridge.benchmark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A TCP relay on a loopback port that holds every chunk of bytes for {@code oneWay} in each direction before passing
 * it on, in order: a network round trip of twice that between a client on this machine and a server on this machine.
 * Its threads are daemon threads; closing stops accepting (the connections end with the benchmark's JVM).
 */
final class LatencyRelay implements AutoCloseable {
    private record Chunk(byte[] bytes, long dueNanos) {}

    private final ServerSocket server;

    LatencyRelay(String host, int port, Duration oneWay) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(host, port);
                    client.setTcpNoDelay(true);
                    upstream.setTcpNoDelay(true);
                    pipe(client, upstream, oneWay);
                    pipe(upstream, client, oneWay);
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
    }

    /** The loopback port clients connect to instead of the server's. */
    int port() {
        return server.getLocalPort();
    }

    /** One direction: a reader queues each chunk with its due time, a writer passes it on once due. */
    private static void pipe(Socket from, Socket to, Duration delay) {
        BlockingQueue<Chunk> chunks = new LinkedBlockingQueue<>();
        daemon(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream()) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    chunks.add(new Chunk(Arrays.copyOf(buffer, n), System.nanoTime() + delay.toNanos()));
                }
            } catch (IOException e) {
                // the connection ended
            }
            chunks.add(new Chunk(null, 0));
        });
        daemon(() -> {
            try (OutputStream out = to.getOutputStream()) {
                for (Chunk c = chunks.take(); c.bytes() != null; c = chunks.take()) {
                    long wait = c.dueNanos() - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    out.write(c.bytes());
                }
            } catch (IOException e) {
                // the connection ended
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private static void daemon(Runnable r) {
        Thread t = new Thread(r, "latency-relay");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
