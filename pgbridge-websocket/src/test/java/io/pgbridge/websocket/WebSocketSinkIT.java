package io.pgbridge.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbridge.PgBridge;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.testkit.TestServices;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The WebSocket sink behind a real bridge: seed 004's people trigger NOTIFYs, JDK clients listen. */
class WebSocketSinkIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PeopleTable people;
    private WebSocketSink sink;
    private PgBridge bridge;
    private final List<Listener> listeners = new ArrayList<>();

    @BeforeEach
    void createTable() throws Exception {
        people = new PeopleTable();
    }

    @AfterEach
    void cleanUp() throws Exception {
        listeners.forEach(Listener::close);
        if (bridge != null) {
            bridge.close();
        }
        people.close();
    }

    /** Starts a bridge routing the table's channel to topic:people, served by a sink on a free port. */
    private void startBridge(Map<String, String> settings) {
        sink = new WebSocketSink(WebSocketConfig.from(
                SinkConfig.of("ws://127.0.0.1:0", Settings.of(settings), Executors.defaultThreadFactory())));
        bridge = PgBridge.builder()
                .postgres(TestServices.postgresUrl())
                .sink(sink)
                .routes(people.name + "->topic:people")
                .build();
        bridge.start();
    }

    private URI ws(String path) {
        return URI.create("ws://127.0.0.1:" + sink.port() + path);
    }

    private Listener listen(String path, Map<String, String> headers) throws Exception {
        Listener l = Listener.connect(ws(path), headers);
        listeners.add(l);
        return l;
    }

    private static int refusedStatus(Throwable t) {
        Throwable cause = t;
        while (cause != null && !(cause instanceof WebSocketHandshakeException)) {
            cause = cause.getCause();
        }
        assertThat(cause)
                .as("refused at the handshake, not by another error: " + t)
                .isNotNull();
        return ((WebSocketHandshakeException) cause).getResponse().statusCode();
    }

    @Test
    void webSocketAndSseClientsReceiveTheTriggersNotifications() throws Exception {
        startBridge(Map.of());
        Listener client = listen("/listen/people", Map.of());
        List<String> sse = new CopyOnWriteArrayList<>();
        HttpClient.newHttpClient()
                .sendAsync(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sink.port() + "/events/people"))
                                .build(),
                        HttpResponse.BodyHandlers.fromLineSubscriber(new LineCollector(sse)));
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.connectedClients("people") == 2);

        people.sql("INSERT INTO " + people.name + " (name, age, height) VALUES ('Paul', 51, 1.9)");
        people.sql("INSERT INTO " + people.name + " (name, age, height) VALUES ('Colin', 65, 1.5)");

        await().atMost(Duration.ofSeconds(10)).until(() -> client.messages.size() == 2);
        JsonNode paul = JSON.readTree(client.messages.get(0));
        assertThat(paul.get("name").asText()).as("first row, in commit order").isEqualTo("Paul");
        assertThat(paul.get("dml_action").asText()).as("trigger's dml_action").isEqualTo("INSERT");
        assertThat(JSON.readTree(client.messages.get(1)).get("name").asText())
                .as("second row")
                .isEqualTo("Colin");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(sse.stream().filter(l -> l.startsWith("data: ")))
                        .as("SSE data lines")
                        .hasSize(2)
                        .anySatisfy(l -> assertThat(l).contains("\"Paul\"")));
        assertThat(sse).as("SSE carries the event id").anySatisfy(l -> assertThat(l)
                .startsWith("id: "));
    }

    @Test
    void refusesAChannelOutsideTheAllowList() throws Exception {
        startBridge(Map.of("websocket.channels", "people, public_*"));
        Throwable refused = catchThrowable(() -> listen("/listen/secrets", Map.of()));
        assertThat(refusedStatus(refused))
                .as("HTTP status of the refused handshake")
                .isEqualTo(403);
        listen("/listen/people", Map.of());
        listen("/listen/public_news", Map.of());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sink.connectedClients())
                .as("allowed channels connect")
                .isEqualTo(2));
    }

    @Test
    void refusesAForeignOriginAndAcceptsItsOwnAndListedOnes() throws Exception {
        startBridge(Map.of("websocket.allowed-origins", "https://app.example.com"));
        Throwable refused = catchThrowable(() -> listen("/listen/people", Map.of("Origin", "http://evil.example")));
        assertThat(refusedStatus(refused)).as("foreign origin").isEqualTo(403);
        listen("/listen/people", Map.of("Origin", "http://127.0.0.1:" + sink.port()));
        listen("/listen/people", Map.of("Origin", "https://app.example.com"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sink.connectedClients("people"))
                .as("same origin and listed origin connect")
                .isEqualTo(2));
    }

    @Test
    void requiresATokenWhoseScopeCoversTheChannel() throws Exception {
        String token = "reader-0123456789abcdef";
        startBridge(Map.of("websocket.tokens", token + "=people"));
        assertThat(refusedStatus(catchThrowable(() -> listen("/listen/people", Map.of()))))
                .as("no token")
                .isEqualTo(401);
        assertThat(refusedStatus(catchThrowable(
                        () -> listen("/listen/people", Map.of("Authorization", "Bearer wrong-0123456789abcdef")))))
                .as("unknown token")
                .isEqualTo(401);
        assertThat(refusedStatus(
                        catchThrowable(() -> listen("/listen/orders", Map.of("Authorization", "Bearer " + token)))))
                .as("token without that channel in scope")
                .isEqualTo(403);
        listen("/listen/people", Map.of("Authorization", "Bearer " + token));
        listen("/listen/people?access_token=" + token, Map.of());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sink.connectedClients("people"))
                .as("header and query token connect")
                .isEqualTo(2));
    }

    @Test
    void cutsOffASlowClientWhileOthersKeepReceiving() throws Exception {
        startBridge(Map.of("websocket.client-queue-max", "200"));
        Listener fast = listen("/listen/people", Map.of());
        try (Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096); // before connect, so the TCP window stays small
            slow.connect(new InetSocketAddress("127.0.0.1", sink.port()));
            handshake(slow);
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.connectedClients("people") == 2);

            // 25 rounds of 100 events of 6 kB (15 MB): each round fits a queue, the whole far exceeds the slow
            // client's queue plus socket buffers; the fast client reads each round before the next is raised
            int rounds = 25;
            int perRound = 100;
            for (int r = 0; r < rounds; r++) {
                int from = r * perRound + 1;
                people.sql("SELECT pg_notify('" + people.name + "', json_build_object('seq', i, 'pad', repeat('x', "
                        + "6000))::text) FROM generate_series(" + from + ", " + (from + perRound - 1) + ") i");
                int expected = from + perRound - 1;
                await().atMost(Duration.ofSeconds(20)).until(() -> fast.messages.size() == expected);
            }
            int count = rounds * perRound;
            List<Integer> seqs = new ArrayList<>();
            for (String m : fast.messages) {
                seqs.add(JSON.readTree(m).get("seq").asInt());
            }
            assertThat(seqs)
                    .as("the fast client got every event, in order")
                    .isEqualTo(IntStream.rangeClosed(1, count).boxed().collect(Collectors.toList()));
            assertThat(sink.connectedClients("people"))
                    .as("the slow client was dropped, the fast one stays")
                    .isEqualTo(1);
            long read = drainUntilClosed(slow);
            assertThat(read).as("the slow client got only part of the stream").isLessThan((long) count * 6000);
        }
    }

    @Test
    void servesEverythingUnderTheBasePathOfTheUri() throws Exception {
        sink = new WebSocketSink(
                WebSocketConfig.builder().uri("ws://127.0.0.1:0/pgbridge").build());
        sink.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> page = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sink.port() + "/pgbridge/"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).as("viewer status").isEqualTo(200);
            assertThat(page.body()).as("viewer page").contains("<title>pgbridge viewer</title>");
            HttpResponse<String> outside = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sink.port() + "/listen/people"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(outside.statusCode()).as("nothing outside the base path").isEqualTo(404);

            Listener client = listen("/pgbridge/listen/people", Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.connectedClients("people") == 1);
            sink.publish(
                    io.pgbridge.Target.topic("people"),
                    List.of(io.pgbridge.Event.builder()
                            .id("e1")
                            .source("test")
                            .channel("people")
                            .payload("hello")
                            .build()));
            await().atMost(Duration.ofSeconds(10)).until(() -> client.messages.equals(List.of("hello")));
        } finally {
            sink.close();
        }
    }

    @Test
    void refusesAForeignHostNameWhenBoundToLoopback() throws Exception {
        sink = new WebSocketSink(
                WebSocketConfig.builder().uri("ws://127.0.0.1:0").build());
        sink.start();
        try (Socket s = new Socket("127.0.0.1", sink.port())) {
            // what a browser sends after DNS rebinding: a name of the attacker's that now resolves to 127.0.0.1
            s.getOutputStream()
                    .write(
                            "GET /events/people HTTP/1.1\r\nHost: rebound.attacker.example:7700\r\nConnection: close\r\n\r\n"
                                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).as("response to a foreign Host").startsWith("HTTP/1.1 403");
        } finally {
            sink.close();
        }
    }

    private static void handshake(Socket s) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(("GET /listen/people HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("handshake response").isNotNegative();
            head.append((char) b);
        }
        assertThat(head.toString()).as("handshake accepted").startsWith("HTTP/1.1 101");
    }

    /** Reads what the server sent until it closed the connection; fails if it stays open. */
    private static long drainUntilClosed(Socket s) throws Exception {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[65536];
        long total = 0;
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the slow client's connection was not closed by the server", e);
        } catch (java.net.SocketException reset) {
            // a reset is as good as a close here
        }
        return total;
    }

    /** Collects the lines of an SSE stream. */
    private static final class LineCollector implements java.util.concurrent.Flow.Subscriber<String> {
        private final List<String> lines;

        LineCollector(List<String> lines) {
            this.lines = lines;
        }

        @Override
        public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String item) {
            lines.add(item);
        }

        @Override
        public void onError(Throwable throwable) {}

        @Override
        public void onComplete() {}
    }
}
