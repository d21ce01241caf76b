package io.pgbridge.mqtt;

import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig;
import com.hivemq.client.mqtt.mqtt5.advanced.interceptor.qos2.Mqtt5OutgoingQos2Interceptor;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperty;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.pubcomp.Mqtt5PubComp;
import com.hivemq.client.mqtt.mqtt5.message.publish.pubrec.Mqtt5PubRec;
import com.hivemq.client.mqtt.mqtt5.message.publish.pubrel.Mqtt5PubRel;
import com.hivemq.client.mqtt.mqtt5.message.publish.pubrel.Mqtt5PubRelBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Completes a QoS 2 publish on PUBCOMP. The HiveMQ client's own future completes on PUBREC, but Mosquitto delivers a
 * QoS 2 message only once it got the PUBREL (MQTT 5 section 4.3.3, "Method B"): a connection lost between the two
 * loses the message, so PUBREC is not a confirmation. Each PUBREL carries a user property with a token that ties its
 * PUBCOMP back to the waiting future. Thread-safe; a lost connection fails every waiting future.
 */
final class Qos2Completion implements Mqtt5OutgoingQos2Interceptor {
    private static final String TOKEN_PROPERTY = "pgbridge-pubrel";

    private final Map<Mqtt5Publish, CompletableFuture<Void>> awaitingPubRec =
            Collections.synchronizedMap(new IdentityHashMap<>());
    private final Map<String, CompletableFuture<Void>> awaitingPubComp = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();

    /** A future that completes when {@code publish}, about to be sent, gets its PUBCOMP. */
    CompletableFuture<Void> register(Mqtt5Publish publish) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        awaitingPubRec.put(publish, done);
        return done;
    }

    /** Forgets {@code publish}, whose flow ended otherwise (an error before or at PUBREC). */
    void forget(Mqtt5Publish publish) {
        awaitingPubRec.remove(publish);
    }

    @Override
    public void onPubRec(
            Mqtt5ClientConfig config, Mqtt5Publish publish, Mqtt5PubRec pubRec, Mqtt5PubRelBuilder pubRel) {
        CompletableFuture<Void> done = awaitingPubRec.remove(publish);
        if (done != null) {
            String token = Long.toString(tokens.incrementAndGet());
            awaitingPubComp.put(token, done);
            pubRel.userProperties().add(TOKEN_PROPERTY, token).applyUserProperties();
        }
    }

    @Override
    public void onPubRecError(Mqtt5ClientConfig config, Mqtt5Publish publish, Mqtt5PubRec pubRec) {
        awaitingPubRec.remove(publish); // the client's own future fails with the reason code
    }

    @Override
    public void onPubComp(Mqtt5ClientConfig config, Mqtt5PubRel pubRel, Mqtt5PubComp pubComp) {
        for (Mqtt5UserProperty p : pubRel.getUserProperties().asList()) {
            if (p.getName().toString().equals(TOKEN_PROPERTY)) {
                CompletableFuture<Void> done =
                        awaitingPubComp.remove(p.getValue().toString());
                if (done != null) {
                    done.complete(null);
                }
            }
        }
    }

    /** Fails every waiting publish: without the connection no PUBCOMP will come for them. */
    void connectionLost(Throwable cause) {
        List<CompletableFuture<Void>> waiting = new ArrayList<>(awaitingPubComp.values());
        awaitingPubComp.clear();
        synchronized (awaitingPubRec) {
            waiting.addAll(awaitingPubRec.values());
            awaitingPubRec.clear();
        }
        waiting.forEach(f -> f.completeExceptionally(cause));
    }
}
