package io.pgbridge.nats;

import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.Map;
import java.util.UUID;

/** The sink contract for NATS JetStream: a stream per test captures the subject; the receiver reads the stream. */
class NatsJetStreamSinkCompatibilityIT extends BrokerSinkCompatibilityKit {
    private String stream;

    @Override
    protected Sink createSink(String uri) {
        return new NatsSinkProvider()
                .create(sinkConfig(uri, Map.of("nats.publish-timeout-ms", "3000", "nats.connect-timeout-ms", "5000")));
    }

    @Override
    protected String brokerUri() {
        return TestServices.natsUrl();
    }

    @Override
    protected Target newTarget() {
        String id = UUID.randomUUID().toString().replace("-", "");
        stream = "KIT_" + id;
        String subject = "pgbridge.kit." + id;
        try {
            NatsStreams.create(stream, subject);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create stream " + stream, e);
        }
        return Target.of("subject", subject);
    }

    @Override
    protected Receiver receiver(Target target) throws Exception {
        return new NatsReceiver(target.name(), stream);
    }

    @Override
    protected TestServices.Service service() {
        return TestServices.Service.NATS;
    }

    @Override
    protected void deleteTarget(Target target) throws Exception {
        NatsStreams.delete(stream);
    }
}
