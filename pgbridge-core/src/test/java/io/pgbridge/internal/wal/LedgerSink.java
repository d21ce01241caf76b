package io.pgbridge.internal.wal;

import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.TestSink;
import io.pgbridge.spi.PublishResult;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A sink for child-process tests: appends {@code id<TAB>position<TAB>payload} per event to a file and confirms only
 * after the write reached the kernel, so what a killed process confirmed is in the file.
 */
final class LedgerSink extends TestSink {
    /** A pause before confirming each batch ({@code -Dpgbridge.test.ledger-delay-ms}), to make a slow broker. */
    private static final long DELAY_MILLIS = Long.getLong("pgbridge.test.ledger-delay-ms", 0);

    private final BufferedWriter out;
    private long count;

    LedgerSink(Path file) throws IOException {
        super("ledger");
        out = Files.newBufferedWriter(
                file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Override
    public synchronized PublishResult publish(Target target, List<Event> events) {
        try {
            if (DELAY_MILLIS > 0) {
                Thread.sleep(DELAY_MILLIS); // a slow broker, not a wait for a condition
            }
            for (Event e : events) {
                out.write(e.id() + '\t' + e.position() + '\t' + e.payloadAsString() + '\n');
            }
            out.flush();
        } catch (IOException e) {
            return PublishResult.failed(0, "cannot write the ledger", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return PublishResult.failed(0, "interrupted", e);
        }
        count += events.size();
        notifyAll();
        return PublishResult.confirmed(events.size());
    }

    synchronized void awaitCount(long n) throws InterruptedException {
        while (count < n) {
            wait();
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
