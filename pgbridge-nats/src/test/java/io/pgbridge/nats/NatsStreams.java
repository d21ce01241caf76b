package io.pgbridge.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.pgbridge.testkit.TestServices;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Creates, reads and deletes JetStream streams on the test server ({@link TestServices#natsUrl()}). */
final class NatsStreams {
    private NatsStreams() {}

    static Connection connect() throws IOException, InterruptedException {
        return Nats.connect(TestServices.natsUrl());
    }

    /** A file-stored stream capturing {@code subject}, with a two-minute duplicate window. */
    static void create(String stream, String subject) throws Exception {
        try (Connection c = connect()) {
            c.jetStreamManagement()
                    .addStream(StreamConfiguration.builder()
                            .name(stream)
                            .subjects(subject)
                            .storageType(StorageType.File)
                            .duplicateWindow(Duration.ofMinutes(2))
                            .build());
        }
    }

    static void delete(String stream) throws Exception {
        try (Connection c = connect()) {
            c.jetStreamManagement().deleteStream(stream);
        } catch (JetStreamApiException e) {
            // already gone
        }
    }

    /** Every message the stream holds, in stream order. */
    static List<MessageInfo> readAll(String stream) throws Exception {
        List<MessageInfo> messages = new ArrayList<>();
        try (Connection c = connect()) {
            var jsm = c.jetStreamManagement();
            long last = jsm.getStreamInfo(stream).getStreamState().getLastSequence();
            for (long seq = 1; seq <= last; seq++) {
                messages.add(jsm.getMessage(stream, seq));
            }
        }
        return messages;
    }
}
