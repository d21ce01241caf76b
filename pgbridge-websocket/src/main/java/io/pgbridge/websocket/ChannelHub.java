package io.pgbridge.websocket;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The connected clients by channel. Thread-safe; {@link #broadcast} never waits for a client, only for a
 * {@link #stopAccepting} in progress.
 */
final class ChannelHub {
    private final Map<String, Set<Client>> byChannel = new ConcurrentHashMap<>();
    private final AtomicInteger connected = new AtomicInteger();
    /** Broadcasts hold the read lock, {@link #stopAccepting} the write lock: none is half done when it returns. */
    private final ReadWriteLock accepting = new ReentrantReadWriteLock();

    private boolean stopped; // guarded by accepting

    void add(Client client) {
        if (byChannel
                .computeIfAbsent(client.channel, c -> new CopyOnWriteArraySet<>())
                .add(client)) {
            connected.incrementAndGet();
        }
    }

    void remove(Client client) {
        Set<Client> clients = byChannel.get(client.channel);
        if (clients != null && clients.remove(client)) {
            connected.decrementAndGet();
        }
    }

    /**
     * Queues the messages, in order, for every client of {@code channel}.
     *
     * @return {@code false}, having queued none, once {@link #stopAccepting} began
     */
    boolean broadcast(String channel, List<Client.Message> messages) {
        accepting.readLock().lock();
        try {
            if (stopped) {
                return false;
            }
            Set<Client> clients = byChannel.get(channel);
            if (clients != null) {
                for (Client.Message m : messages) {
                    for (Client c : clients) {
                        c.offer(m);
                    }
                }
            }
            return true;
        } finally {
            accepting.readLock().unlock();
        }
    }

    /**
     * Refuses every later {@link #broadcast}, and returns once none is in progress: from then on, {@link #drain}
     * waits for every message a broadcast accepted.
     */
    void stopAccepting() {
        accepting.writeLock().lock();
        try {
            stopped = true;
        } finally {
            accepting.writeLock().unlock();
        }
    }

    /** Queues a keep-alive for every client, so that idle connections are neither timed out nor left half-open. */
    void heartbeat() {
        for (Set<Client> clients : byChannel.values()) {
            for (Client c : clients) {
                c.offer(Client.Message.HEARTBEAT);
            }
        }
    }

    int connected() {
        return connected.get();
    }

    int connected(String channel) {
        Set<Client> clients = byChannel.get(channel);
        return clients == null ? 0 : clients.size();
    }

    /**
     * Waits until every client has been written what was queued for it, or {@code timeout} passed, so that events
     * confirmed before a shutdown still reach the clients connected then.
     */
    void drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!allDrained() && deadline - System.nanoTime() > 0) {
            Thread.sleep(10); // bounded by the timeout; writes complete on Jetty's threads, which do not signal us
        }
    }

    private boolean allDrained() {
        for (Set<Client> clients : byChannel.values()) {
            for (Client c : clients) {
                if (!c.drained()) {
                    return false;
                }
            }
        }
        return true;
    }

    void closeAll(String why) {
        List<Client> all = new ArrayList<>();
        byChannel.values().forEach(all::addAll);
        for (Client c : all) {
            c.close(why);
        }
    }
}
