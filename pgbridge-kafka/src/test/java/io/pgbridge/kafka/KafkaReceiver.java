package io.pgbridge.kafka;

import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;

/** Reads one topic from its beginning on its own thread, for the compatibility kit. */
final class KafkaReceiver implements Receiver {
    private final List<Received> received = new ArrayList<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;
    /** What ended the polling thread other than {@link #close()}: a test then fails with it, not with a short count. */
    private volatile RuntimeException failure;

    KafkaReceiver(String topic) {
        consumer = KafkaTopics.consumer(topic, 1);
        consumer.poll(Duration.ZERO); // joins the partition before the test publishes
        thread = new Thread(this::run, "pgbridge-test-kafka-receiver");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (running) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    Map<String, String> headers = new LinkedHashMap<>();
                    for (Header h : r.headers()) {
                        headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
                    }
                    synchronized (received) {
                        received.add(new Received(r.value(), headers.get(KafkaSink.HEADER_EVENT_ID), headers));
                    }
                });
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            consumer.close(Duration.ofSeconds(1));
        }
    }

    @Override
    public List<Received> received() {
        if (failure != null) {
            throw new IllegalStateException("the Kafka consumer stopped polling", failure);
        }
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
