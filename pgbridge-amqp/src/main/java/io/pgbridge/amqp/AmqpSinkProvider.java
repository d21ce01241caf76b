package io.pgbridge.amqp;

import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.SinkProvider;
import java.util.List;
import java.util.Set;

/**
 * The RabbitMQ sink, selected by the name {@code amqp} or by an {@code amqp://} / {@code amqps://} upstream URI:
 *
 * <pre>{@code
 * PgBridge.builder()
 *         .postgres("postgresql://app:secret@localhost:5432/app")
 *         .upstream("amqp://guest:guest@localhost:5672/%2f")
 *         .routes("events->exchange:amq.topic, jobs->queue:jobs")
 *         .build();
 * }</pre>
 *
 * <p>Targets: {@code exchange:NAME} publishes to that exchange with the event's routing key (the {@code key|message}
 * NOTIFY convention), or the channel name when it has none; {@code queue:NAME} publishes to that queue through the
 * default exchange. Every publish uses publisher confirms and {@code mandatory=true}: an event counts as delivered
 * only once RabbitMQ acked it; a nack, a timeout, an unroutable message or a lost connection is retried. Settings:
 * {@link AmqpSinkConfig}.
 */
public final class AmqpSinkProvider implements SinkProvider {
    @Override
    public String name() {
        return "amqp";
    }

    @Override
    public Set<String> schemes() {
        return Set.of("amqp", "amqps");
    }

    @Override
    public List<Setting> settings() {
        return AmqpSinkConfig.SETTINGS;
    }

    /** @throws io.pgbridge.ConfigurationException listing every invalid setting or URI problem */
    @Override
    public Sink create(SinkConfig config) {
        return new AmqpSink(AmqpSinkConfig.from(config), config.threadFactory());
    }
}
