package io.pgbridge.chaos;

import io.pgbridge.chaos.ChaosRun.ProducerBody;
import io.pgbridge.chaos.ChaosRun.Scenario;
import io.pgbridge.chaos.Nemesis.Fault;
import io.pgbridge.chaos.Workload.Source;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fault-injection suite: every scenario runs the producer, the bridge in a child JVM, a consumer and the nemesis
 * against the suite's own PostgreSQL and RabbitMQ (ports 5499 and 5699, started here from scratch and stopped at the
 * end), and fails on any loss, any order violation the docs do not allow, or a slot still holding WAL after a quiet
 * period. Each run prints its seed and the command that replays it.
 */
class ChaosIT {
    private static final List<Fault> RABBITMQ_FAULTS = List.of(
            Fault.BRIDGE_SIGKILL,
            Fault.BRIDGE_SIGTERM,
            Fault.RABBIT_CRASH,
            Fault.RABBIT_RESTART,
            Fault.POSTGRES_CRASH,
            Fault.FREEZE_POSTGRES_PATH,
            Fault.FREEZE_SINK_PATH,
            Fault.SINK_REFUSES,
            Fault.UNROUTABLE);

    @BeforeAll
    static void startServices() {
        ChaosServices.start();
    }

    @AfterAll
    static void stopServices() {
        ChaosServices.stop();
    }

    private static List<Fault> with(List<Fault> faults, Fault... more) {
        List<Fault> all = new java.util.ArrayList<>(faults);
        all.addAll(List.of(more));
        return all;
    }

    @Test
    void walToRabbitMq() throws Exception {
        ChaosRun.run(
                new Scenario(
                        "walToRabbitMq",
                        Source.WAL,
                        2,
                        1,
                        with(RABBITMQ_FAULTS, Fault.KILL_WALSENDER),
                        List.of("-Xmx256m"),
                        true),
                name -> new AmqpSide(name, 2),
                ProducerBody.STEADY);
    }
}
