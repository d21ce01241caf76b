package io.pgbridge.benchmark;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.pgbridge.Event;
import io.pgbridge.Target;
import io.pgbridge.kafka.KafkaSinkProvider;
import io.pgbridge.nats.NatsSinkProvider;
import io.pgbridge.spi.PublishResult;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Kafka and NATS JetStream sinks against a bare client loop doing the same work, in the same run: {@code events}
 * events (default 100,000) of ~200 bytes, one publishing thread, batches of {@code batch} (default 500, the
 * pipeline's {@code delivery.max-batch}), each batch waited for until every record is acknowledged.
 *
 * <ul>
 *   <li>Kafka: the sink with its defaults, against a {@link KafkaProducer} with the same settings ({@code acks=all},
 *       idempotence, lz4, linger 5 ms, batch 64 KiB) sending the same records (key, five headers, value) and waiting
 *       for each batch's futures. Topic of one partition.
 *   <li>NATS: the sink against {@code JetStream.publishAsync} with the same headers and {@code Nats-Msg-Id}, waiting
 *       for each batch's publish acks. File-stored stream.
 * </ul>
 *
 * Each pair runs a warm-up, then four rounds of bare and sink (alternating which goes first); it prints each measured
 * run and the ratio of the sink's events per second to the bare loop's, of the best runs and of the medians (on a
 * busy machine, other processes' pauses make single runs vary widely). Arguments (all optional): {@code events=100000 batch=500
 * kafka=kafka://127.0.0.1:9092 nats=nats://127.0.0.1:4222}; {@code kafka=} or {@code nats=} empty skips that one.
 */
public final class StreamSinkBenchmark {
    private static final int ROUNDS = 4;

    private StreamSinkBenchmark() {}

    /** One measured loop: publishes {@code events} and returns when all are acknowledged. */
    @FunctionalInterface
    private interface Loop {
        void run(List<List<Event>> batches) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        BenchmarkArgs a = BenchmarkArgs.parse(
                args, "events=100000", "batch=500", "kafka=kafka://127.0.0.1:9092", "nats=nats://127.0.0.1:4222");
        int events = a.integer("events");
        int batch = a.integer("batch");
        String kafka = a.string("kafka");
        String nats = a.string("nats");
        System.out.printf(
                Locale.ROOT,
                "Stream sink benchmark: %d events, batches of %d, one publishing thread, %d cores%n",
                events,
                batch,
                Runtime.getRuntime().availableProcessors());
        List<List<Event>> batches = batches(events, batch);
        List<List<Event>> warmUp = batches(Math.min(events, 20_000), batch);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        if (!kafka.isEmpty()) {
            kafka(kafka, "pgbridge-bench-" + suffix, batches, warmUp);
        }
        if (!nats.isEmpty()) {
            nats(nats, "PGBRIDGE_BENCH_" + suffix, "pgbridge.bench." + suffix, batches, warmUp);
        }
    }

    private static void kafka(String uri, String topic, List<List<Event>> batches, List<List<Event>> warmUp)
            throws Exception {
        String servers = uri.substring(uri.indexOf("://") + 3);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        try {
            Map<String, Object> props = new HashMap<>();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
            props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            props.put(ProducerConfig.BATCH_SIZE_CONFIG, 65_536);
            props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props);
                    Sink sink = sink(new KafkaSinkProvider(), uri)) {
                Target target = Target.topic(topic);
                Loop bare = bs -> {
                    for (List<Event> b : bs) {
                        List<Future<RecordMetadata>> sends = new ArrayList<>(b.size());
                        for (Event e : b) {
                            RecordHeaders h = new RecordHeaders();
                            h.add("pgbridge-event-id", utf8(e.id()));
                            h.add("pgbridge-source", utf8(e.source()));
                            h.add("pgbridge-channel", utf8(e.channel()));
                            h.add("pgbridge-routing-key", utf8(e.routingKey()));
                            h.add("content-type", utf8(e.contentType()));
                            sends.add(producer.send(
                                    new ProducerRecord<>(topic, null, null, utf8(e.routingKey()), e.payload(), h)));
                        }
                        for (Future<RecordMetadata> f : sends) {
                            f.get();
                        }
                    }
                };
                compare("kafka", bare, sinkLoop(sink, target), batches, warmUp);
            }
        } finally {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
                admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void nats(
            String uri, String stream, String subject, List<List<Event>> batches, List<List<Event>> warmUp)
            throws Exception {
        try (Connection c = Nats.connect(uri)) {
            JetStreamManagement jsm = c.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder()
                    .name(stream)
                    .subjects(subject)
                    .storageType(StorageType.File)
                    .duplicateWindow(Duration.ofMinutes(2))
                    .build());
            try (Sink sink = sink(new NatsSinkProvider(), uri)) {
                JetStream js = c.jetStream();
                Loop bare = bs -> {
                    for (List<Event> b : bs) {
                        List<CompletableFuture<PublishAck>> acks = new ArrayList<>(b.size());
                        for (Event e : b) {
                            Headers h = new Headers();
                            h.add("pgbridge-event-id", e.id());
                            h.add("pgbridge-source", e.source());
                            h.add("pgbridge-channel", e.channel());
                            h.add("pgbridge-routing-key", e.routingKey());
                            h.add("Content-Type", e.contentType());
                            NatsMessage m = NatsMessage.builder()
                                    .subject(subject)
                                    .headers(h)
                                    .data(e.payload())
                                    .build();
                            acks.add(js.publishAsync(
                                    m,
                                    PublishOptions.builder()
                                            .messageId("bare-" + e.id())
                                            .expectedStream(stream)
                                            .build()));
                        }
                        for (CompletableFuture<PublishAck> f : acks) {
                            f.get();
                        }
                    }
                };
                compare("nats-jetstream", bare, sinkLoop(sink, Target.of("subject", subject)), batches, warmUp);
            } finally {
                jsm.deleteStream(stream);
            }
        }
    }

    private static Sink sink(io.pgbridge.spi.SinkProvider provider, String uri) {
        ThreadFactory daemons = r -> {
            Thread t = Executors.defaultThreadFactory().newThread(r);
            t.setDaemon(true);
            return t;
        };
        Sink sink = provider.create(SinkConfig.of(uri, Settings.of(Map.of()), daemons));
        sink.start();
        return sink;
    }

    private static Loop sinkLoop(Sink sink, Target target) {
        return bs -> {
            for (List<Event> b : bs) {
                PublishResult r = sink.publish(target, b);
                if (r.isFailure()) {
                    throw new IllegalStateException("publish failed: " + r);
                }
            }
        };
    }

    /** Warm-up of both, then {@link #ROUNDS} rounds of each; prints each run and the ratios of the best and medians. */
    private static void compare(String name, Loop bare, Loop sink, List<List<Event>> batches, List<List<Event>> warmUp)
            throws Exception {
        bare.run(rename(warmUp, "warm-bare"));
        sink.run(rename(warmUp, "warm-sink"));
        List<Double> bareRates = new ArrayList<>();
        List<Double> sinkRates = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            // alternate which goes first, so that neither always runs on a warmer broker
            boolean bareFirst = round % 2 == 1;
            for (int turn = 0; turn < 2; turn++) {
                if ((turn == 0) == bareFirst) {
                    bareRates.add(measure(name, "bare", round, bare, rename(batches, "bare" + round)));
                } else {
                    sinkRates.add(measure(name, "sink", round, sink, rename(batches, "sink" + round)));
                }
            }
        }
        bareRates.sort(null);
        sinkRates.sort(null);
        double bestBare = bareRates.get(ROUNDS - 1);
        double bestSink = sinkRates.get(ROUNDS - 1);
        double medianBare = (bareRates.get(ROUNDS / 2 - 1) + bareRates.get(ROUNDS / 2)) / 2;
        double medianSink = (sinkRates.get(ROUNDS / 2 - 1) + sinkRates.get(ROUNDS / 2)) / 2;
        System.out.printf(
                Locale.ROOT,
                "%-14s best: sink/bare=%.3f (sink %.0f, bare %.0f events/s); median: sink/bare=%.3f (sink %.0f, bare %.0f"
                        + " events/s)%n",
                name,
                bestSink / bestBare,
                bestSink,
                bestBare,
                medianSink / medianBare,
                medianSink,
                medianBare);
    }

    private static double measure(String name, String loop, int round, Loop run, List<List<Event>> batches)
            throws Exception {
        int events = batches.stream().mapToInt(List::size).sum();
        long start = System.nanoTime();
        run.run(batches);
        double seconds = (System.nanoTime() - start) / 1e9;
        double rate = events / seconds;
        System.out.printf(
                Locale.ROOT,
                "%-14s %-4s round=%d events=%d seconds=%.2f events_per_s=%.0f%n",
                name,
                loop,
                round,
                events,
                seconds,
                rate);
        return rate;
    }

    /** The same events with ids unique to one run (so that JetStream's duplicate window drops none). */
    private static List<List<Event>> rename(List<List<Event>> batches, String run) {
        List<List<Event>> renamed = new ArrayList<>(batches.size());
        for (List<Event> b : batches) {
            List<Event> r = new ArrayList<>(b.size());
            for (Event e : b) {
                r.add(e.toBuilder().id(run + "-" + e.id()).build());
            }
            renamed.add(r);
        }
        return renamed;
    }

    private static List<List<Event>> batches(int events, int batch) {
        List<List<Event>> batches = new ArrayList<>();
        for (int from = 0; from < events; from += batch) {
            List<Event> b = new ArrayList<>();
            for (int i = from; i < Math.min(events, from + batch); i++) {
                b.add(Event.builder()
                        .id(Integer.toString(i))
                        .source("benchmark")
                        .channel("bench")
                        .routingKey("customer-" + (i % 64))
                        .payload(payload(i))
                        .contentType("application/json")
                        .build());
            }
            batches.add(b);
        }
        return batches;
    }

    private static String payload(int i) {
        return String.format(
                Locale.ROOT,
                "{\"id\":%9d,\"kind\":\"signup\",\"email\":\"user%09d@example.com\",\"name\":\"A new user\","
                        + "\"plan\":\"free\",\"referrer\":\"https://example.com/landing/page\",\"note\":\"%s\"}",
                i,
                i,
                "x".repeat(40));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static {
        // quiet kafka-clients' INFO lines (configuration dumps) in the output
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "warn");
        System.setProperty("org.slf4j.simpleLogger.log.io.pgbridge", "warn");
    }
}
