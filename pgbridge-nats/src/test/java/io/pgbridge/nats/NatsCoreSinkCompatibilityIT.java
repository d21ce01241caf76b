package io.pgbridge.nats;

import io.pgbridge.Target;
import io.pgbridge.sinktck.BrokerSinkCompatibilityKit;
import io.pgbridge.sinktck.Receiver;
import io.pgbridge.spi.Sink;
import io.pgbridge.testkit.TestServices;
import java.util.Map;
import java.util.UUID;

/** The sink contract for core NATS subjects (no stream; {@code nats.core-subjects=true}), with a subscriber. */
class NatsCoreSinkCompatibilityIT extends BrokerSinkCompatibilityKit {

    @Override
    protected Sink createSink(String uri) {
        return new NatsSinkProvider()
                .create(sinkConfig(
                        uri,
                        Map.of(
                                "nats.publish-timeout-ms",
                                "3000",
                                "nats.connect-timeout-ms",
                                "5000",
                                "nats.core-subjects",
                                "true")));
    }

    @Override
    protected String brokerUri() {
        return TestServices.natsUrl();
    }

    @Override
    protected Target newTarget() {
        return Target.of(
                "subject", "pgbridge.kit.core." + UUID.randomUUID().toString().replace("-", ""));
    }

    @Override
    protected Receiver receiver(Target target) throws Exception {
        return new NatsReceiver(target.name(), null);
    }

    @Override
    protected TestServices.Service service() {
        return TestServices.Service.NATS;
    }
}
