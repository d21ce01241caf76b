package io.pgbridge.websocket;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven over the Chrome DevTools Protocol with the JDK's WebSocket client: navigate,
 * evaluate JavaScript, take a screenshot. The binary is {@code PGBRIDGE_TEST_CHROMIUM} or {@code chromium}; when it
 * is missing the test fails and says how to install it.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path profile;
    private final WebSocket devtools;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    HeadlessChromium(Path log) throws Exception {
        String binary = System.getenv().getOrDefault("PGBRIDGE_TEST_CHROMIUM", "chromium");
        profile = Files.createTempDirectory("pgbridge-chromium-");
        ProcessBuilder pb = new ProcessBuilder(
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1100,760",
                "--user-data-dir=" + profile,
                "--remote-debugging-port=0",
                "about:blank");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot run '" + binary + "': install Debian's chromium (apt-get install -y"
                            + " --no-install-recommends chromium) or set PGBRIDGE_TEST_CHROMIUM to a Chromium binary",
                    e);
        }
        // Chromium writes the port it picked into DevToolsActivePort once DevTools listens.
        Path portFile = profile.resolve("DevToolsActivePort");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(portFile) && Files.size(portFile) > 0);
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
        HttpClient http = HttpClient.newHttpClient();
        JsonNode targets = JSON.readTree(http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
        String page = null;
        for (JsonNode t : targets) {
            if (t.get("type").asText().equals("page")) {
                page = t.get("webSocketDebuggerUrl").asText();
            }
        }
        if (page == null) {
            throw new IllegalStateException("Chromium shows no page target: " + targets);
        }
        devtools = http.newWebSocketBuilder()
                .buildAsync(URI.create(page), new Receiver())
                .get(10, TimeUnit.SECONDS);
    }

    /** Calls a DevTools method and returns its {@code result}. */
    JsonNode call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
        msg.set("params", JSON.valueToTree(params));
        devtools.sendText(JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
        JsonNode answer = reply.get(30, TimeUnit.SECONDS);
        if (answer.has("error")) {
            throw new IllegalStateException(method + " failed: " + answer.get("error"));
        }
        return answer.get("result");
    }

    void navigate(String url) throws Exception {
        call("Page.navigate", Map.of("url", url));
        await().atMost(Duration.ofSeconds(20)).until(() -> "complete".equals(eval("document.readyState")));
    }

    /** Evaluates a JavaScript expression in the page and returns its value as text ({@code null} for none). */
    String eval(String expression) throws Exception {
        JsonNode result = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
        JsonNode value = result.get("result").get("value");
        return value == null || value.isNull() ? null : value.asText();
    }

    void screenshot(Path file) throws Exception {
        JsonNode shot = call("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(shot.get("data").asText()));
    }

    @Override
    public void close() throws IOException {
        devtools.abort();
        // Chromium's helper processes (renderer, GPU, zygote) write into the profile too: stop them all and wait.
        List<ProcessHandle> all = Stream.concat(process.descendants(), Stream.of(process.toHandle()))
                .toList();
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle p : all) {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                p.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        try (Stream<Path> files = Files.walk(profile)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Matches DevTools replies to calls by id; events are ignored. */
    private final class Receiver implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode msg = JSON.readTree(partial.toString());
                    CompletableFuture<JsonNode> reply =
                            msg.has("id") ? pending.remove(msg.get("id").asInt()) : null;
                    if (reply != null) {
                        reply.complete(msg);
                    }
                } catch (IOException e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }
}
