package io.pgbridge.nats;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.impl.Headers;
import io.pgbridge.sinktck.Received;
import io.pgbridge.sinktck.Receiver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects what arrives on a subject, for the compatibility kit: from the stream through an ordered JetStream
 * consumer when {@code stream} is given (what the stream stored), else as a core NATS subscriber. Header values are
 * decoded as a consumer does ({@link HeaderValues#decode}).
 */
final class NatsReceiver implements Receiver {
    private final List<Received> received = new ArrayList<>();
    private final Connection connection;

    NatsReceiver(String subject, String stream) throws Exception {
        connection = NatsStreams.connect();
        Dispatcher dispatcher = connection.createDispatcher();
        if (stream != null) {
            JetStreamSubscription sub = connection
                    .jetStream()
                    .subscribe(
                            subject,
                            dispatcher,
                            this::add,
                            true,
                            PushSubscribeOptions.builder().stream(stream)
                                    .ordered(true)
                                    .build());
            sub.getConsumerInfo(); // the consumer exists before the test publishes
        } else {
            dispatcher.subscribe(subject, this::add);
        }
        connection.flush(java.time.Duration.ofSeconds(5)); // the server knows the subscription
    }

    private void add(Message m) {
        Map<String, String> headers = new LinkedHashMap<>();
        Headers h = m.getHeaders();
        if (h != null) {
            h.entrySet()
                    .forEach(e -> headers.put(
                            e.getKey(), HeaderValues.decode(e.getValue().get(0))));
        }
        synchronized (received) {
            received.add(new Received(m.getData(), headers.get(NatsSink.HEADER_EVENT_ID), headers));
        }
    }

    @Override
    public List<Received> received() {
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
