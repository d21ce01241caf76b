package io.pgbridge.testkit;

import com.redis.testcontainers.RedisContainer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.hivemq.HiveMQContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The real services integration tests run against. Each comes from an environment variable when set (what
 * {@code .ci/run} exports for the machine's own services), else from a Testcontainers container where Docker runs.
 * When neither is possible the test fails with a message that says which variable to set: a missing service is never
 * a silent skip.
 *
 * <table>
 *   <caption>Variables</caption>
 *   <tr><th>service</th><th>URL variable</th><th>example</th></tr>
 *   <tr><td>PostgreSQL (wal_level=logical)</td><td>{@code PGBRIDGE_TEST_POSTGRES_URL}</td>
 *       <td>{@code postgresql://postgres@127.0.0.1:5432/postgres}</td></tr>
 *   <tr><td>RabbitMQ</td><td>{@code PGBRIDGE_TEST_AMQP_URL}</td><td>{@code amqp://guest:guest@127.0.0.1:5672/%2f}</td></tr>
 *   <tr><td>MQTT</td><td>{@code PGBRIDGE_TEST_MQTT_URL}</td><td>{@code mqtt://127.0.0.1:1883}</td></tr>
 *   <tr><td>Redis</td><td>{@code PGBRIDGE_TEST_REDIS_URL}</td><td>{@code redis://127.0.0.1:6379}</td></tr>
 *   <tr><td>Kafka (KRaft, topics not auto-created)</td><td>{@code PGBRIDGE_TEST_KAFKA_URL}</td>
 *       <td>{@code kafka://127.0.0.1:9092}</td></tr>
 *   <tr><td>NATS with JetStream</td><td>{@code PGBRIDGE_TEST_NATS_URL}</td><td>{@code nats://127.0.0.1:4222}</td></tr>
 * </table>
 *
 * <p>Fault tests stop and start a service through {@link #stop(Service)} and {@link #start(Service)}: shell commands
 * from {@code PGBRIDGE_TEST_<SERVICE>_STOP} / {@code _START} (set by {@code .ci/run}), or commands run inside the
 * container.
 */
public final class TestServices {
    /** A service tests use. */
    public enum Service {
        POSTGRES,
        AMQP,
        MQTT,
        REDIS,
        KAFKA,
        NATS
    }

    private static final Map<Service, GenericContainer<?>> CONTAINERS = new ConcurrentHashMap<>();

    private TestServices() {}

    /** {@code postgresql://user[:password]@host:port/database}, for {@code PgBridge.builder().postgres(...)}. */
    public static String postgresUrl() {
        return url(Service.POSTGRES, () -> {
            PostgreSQLContainer pg = new PostgreSQLContainer(DockerImageName.parse("postgres:15"))
                    .withCommand(
                            "postgres",
                            "-c",
                            "wal_level=logical",
                            "-c",
                            "max_replication_slots=20",
                            "-c",
                            "max_wal_senders=20");
            pg.start();
            CONTAINERS.put(Service.POSTGRES, pg);
            return "postgresql://" + pg.getUsername() + ":" + pg.getPassword() + "@" + pg.getHost() + ":"
                    + pg.getMappedPort(5432) + "/" + pg.getDatabaseName();
        });
    }

    /** A data source for the test database (for Flyway, {@code PgBridgeSchema.migrate}, ...). */
    public static DataSource postgresDataSource() {
        java.net.URI uri = java.net.URI.create(postgresUrl());
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {uri.getHost()});
        ds.setPortNumbers(new int[] {uri.getPort() > 0 ? uri.getPort() : 5432});
        ds.setDatabaseName(uri.getPath().substring(1));
        String userInfo = uri.getUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            ds.setUser(colon < 0 ? userInfo : userInfo.substring(0, colon));
            if (colon >= 0) {
                ds.setPassword(userInfo.substring(colon + 1));
            }
        }
        return ds;
    }

    /** A new JDBC connection to the test database, in auto-commit mode. */
    public static Connection postgresConnection() throws SQLException {
        return postgresDataSource().getConnection();
    }

    /** {@code amqp://user:password@host:port/vhost}. */
    public static String amqpUrl() {
        return url(Service.AMQP, () -> {
            RabbitMQContainer rabbit = new RabbitMQContainer(DockerImageName.parse("rabbitmq:3.13"));
            rabbit.start();
            CONTAINERS.put(Service.AMQP, rabbit);
            return rabbit.getAmqpUrl();
        });
    }

    /** {@code mqtt://host:port}. */
    public static String mqttUrl() {
        return url(Service.MQTT, () -> {
            HiveMQContainer hivemq = new HiveMQContainer(DockerImageName.parse("hivemq/hivemq-ce:2024.3"));
            hivemq.start();
            CONTAINERS.put(Service.MQTT, hivemq);
            return "mqtt://" + hivemq.getHost() + ":" + hivemq.getMqttPort();
        });
    }

    /** {@code redis://host:port}. */
    public static String redisUrl() {
        return url(Service.REDIS, () -> {
            RedisContainer redis = new RedisContainer(DockerImageName.parse("redis:7"));
            redis.start();
            CONTAINERS.put(Service.REDIS, redis);
            return redis.getRedisURI();
        });
    }

    /** {@code kafka://host:port}: a single broker on which topics must be created before use. */
    public static String kafkaUrl() {
        return url(Service.KAFKA, () -> {
            KafkaContainer kafka = new KafkaContainer(DockerImageName.parse("apache/kafka:4.1.1"))
                    .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false");
            kafka.start();
            CONTAINERS.put(Service.KAFKA, kafka);
            return "kafka://" + kafka.getBootstrapServers();
        });
    }

    /** {@code nats://host:port}, with JetStream enabled. */
    public static String natsUrl() {
        return url(Service.NATS, () -> {
            GenericContainer<?> nats = new GenericContainer<>(DockerImageName.parse("nats:2.10"))
                    .withCommand("-js")
                    .withExposedPorts(4222);
            nats.start();
            CONTAINERS.put(Service.NATS, nats);
            return "nats://" + nats.getHost() + ":" + nats.getMappedPort(4222);
        });
    }

    /** Stops a service (for fault tests); {@link #start(Service)} brings it back. */
    public static void stop(Service service) {
        control(service, "STOP", service == Service.AMQP ? new String[] {"rabbitmqctl", "stop_app"} : null);
    }

    /** Starts a service stopped by {@link #stop(Service)} and returns once it accepts connections. */
    public static void start(Service service) {
        control(service, "START", service == Service.AMQP ? new String[] {"rabbitmqctl", "start_app"} : null);
    }

    private static void control(Service service, String action, String[] inContainer) {
        String variable = "PGBRIDGE_TEST_" + service.name() + "_" + action;
        String command = System.getenv(variable);
        if (command != null && !command.isBlank()) {
            Shell.run(command);
            return;
        }
        GenericContainer<?> container = CONTAINERS.get(service);
        if (container != null && inContainer != null) {
            try {
                var result = container.execInContainer(inContainer);
                if (result.getExitCode() != 0) {
                    throw new IllegalStateException(String.join(" ", inContainer) + " failed: " + result.getStderr());
                }
                return;
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("Cannot " + action.toLowerCase(Locale.ROOT) + " " + service + ": set "
                + variable + " to a shell command that does it (.ci/run sets it for the machine's services)");
    }

    private static String url(Service service, Supplier<String> container) {
        String variable = "PGBRIDGE_TEST_" + service.name() + "_URL";
        String value = System.getenv(variable);
        if (value != null && !value.isBlank()) {
            return value.trim();
        }
        synchronized (CONTAINERS) {
            String cached = System.getProperty("pgbridge.test." + service.name());
            if (cached != null) {
                return cached;
            }
            if (!dockerAvailable()) {
                throw new IllegalStateException(service + " is not available: set " + variable
                        + " (bash .ci/run does it for this machine's services) or run Docker for Testcontainers");
            }
            String url = container.get();
            System.setProperty("pgbridge.test." + service.name(), url);
            return url;
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }
}
