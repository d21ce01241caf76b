package io.pgbridge.spi.support;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names every thread {@code pgbridge-<role>-<n>}; threads come from the caller's factory when one was given, else
 * they are daemon threads, so that a forgotten bridge does not keep the JVM alive.
 */
public final class NamedThreadFactory implements ThreadFactory {
    private final String prefix;
    private final ThreadFactory delegate;
    private final AtomicInteger count = new AtomicInteger();

    public NamedThreadFactory(String role, ThreadFactory delegate) {
        this.prefix = "pgbridge-" + role + "-";
        this.delegate = delegate;
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t;
        if (delegate != null) {
            t = delegate.newThread(r);
        } else {
            t = new Thread(r);
            t.setDaemon(true);
        }
        t.setName(prefix + count.incrementAndGet());
        return t;
    }
}
