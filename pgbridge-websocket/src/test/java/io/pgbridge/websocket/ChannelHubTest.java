package io.pgbridge.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.RepeatedTest;

/**
 * A shutdown that overtakes a publish: once {@link ChannelHub#stopAccepting()} returned, every batch a broadcast
 * accepted is queued in full for the client, and no later one is. (An earlier sink queued events after its shutdown
 * had drained the clients and confirmed them all; CI's compatibility kit saw 694 of 800 arrive.)
 */
class ChannelHubTest {

    @RepeatedTest(50)
    void aBroadcastIsWhollyBeforeTheStopOrRefused() throws Exception {
        ChannelHub hub = new ChannelHub();
        RecordingClient client = new RecordingClient();
        hub.add(client);
        CountDownLatch firstAccepted = new CountDownLatch(1);
        CompletableFuture<Integer> accepted = CompletableFuture.supplyAsync(() -> {
            int batches = 0;
            while (hub.broadcast("people", batch(batches))) {
                batches++;
                firstAccepted.countDown();
            }
            return batches;
        });
        assertThat(firstAccepted.await(10, TimeUnit.SECONDS))
                .as("a first batch accepted")
                .isTrue();

        hub.stopAccepting();
        List<String> writtenAtStop = client.written();
        int batches = accepted.get(10, TimeUnit.SECONDS);

        assertThat(writtenAtStop).as("written when stopAccepting() returned").hasSize(batches * 10);
        assertThat(client.written()).as("written in the end").isEqualTo(writtenAtStop);
        assertThat(hub.broadcast("people", batch(batches)))
                .as("a broadcast after the stop")
                .isFalse();
    }

    private static List<Client.Message> batch(int n) {
        List<Client.Message> messages = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            messages.add(new Client.Message("e" + n + "." + i, "event " + n + "." + i));
        }
        return messages;
    }

    /** A client of channel {@code people} whose writes complete at once. */
    private static final class RecordingClient extends Client {
        private final List<String> written = new ArrayList<>();

        RecordingClient() {
            super("people", Integer.MAX_VALUE, c -> {});
        }

        synchronized List<String> written() {
            return new ArrayList<>(written);
        }

        @Override
        void write(Message message, Callback done) {
            synchronized (this) {
                written.add(message.text());
            }
            done.succeeded();
        }

        @Override
        void cutOff(String reason) {}

        @Override
        void closed(String why) {}
    }
}
