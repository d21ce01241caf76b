package io.pgbridge.spring.boot;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Writes outbox events from application code: {@link #send} calls {@code <schema>.send(channel, payload, routing_key,
 * headers, stream_id)} (docs/outbox.md) through the application's {@code DataSource} with a {@link JdbcTemplate}, which takes
 * the connection of the current Spring transaction when there is one ({@code DataSourceUtils}). So the event commits
 * with the application's own writes, and a rollback delivers nothing. Outside a transaction the call is its own
 * autocommit transaction. Every {@link OutboxHeaderSource} adds its headers (the current trace context when Micrometer
 * Tracing is configured); the caller's headers win. The schema must be installed ({@code pgbridge.outbox.install-schema}, or your own
 * migration). Thread-safe.
 */
public class OutboxPublisher {
    private static final Pattern SCHEMA_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final JdbcTemplate jdbc;
    private final String sql;
    private final long streamId;
    private final List<OutboxHeaderSource> headerSources;

    /**
     * @param jdbc over the application's {@code DataSource}
     * @param schema the outbox schema, lower-case letters, digits and {@code _} (written into SQL unquoted)
     * @param streamId the stream written, the one the bridge reads ({@code pgbridge.outbox.stream-id}, default 1)
     * @param headerSources headers added to every event, in order (a later source wins, the caller over all)
     * @throws IllegalArgumentException when the schema name breaks that rule
     */
    public OutboxPublisher(JdbcTemplate jdbc, String schema, long streamId, List<OutboxHeaderSource> headerSources) {
        this.jdbc = Objects.requireNonNull(jdbc, "jdbc");
        if (schema == null || !SCHEMA_NAME.matcher(schema).matches()) {
            throw new IllegalArgumentException("pgbridge.outbox.schema must be lower-case letters, digits and _,"
                    + " starting with a letter or _, at most 63 characters, not '" + schema + "'");
        }
        this.streamId = streamId;
        this.headerSources = List.copyOf(headerSources);
        this.sql = "select " + schema + ".send(?, ?::jsonb, ?, jsonb_object(?::text[], ?::text[]), ?)";
    }

    /**
     * Writes one event in the current transaction; delivered as {@code application/json} once that transaction
     * commits.
     *
     * @param channel the channel the routes match; never {@code null}
     * @param jsonPayload the payload, a JSON document; never {@code null}
     * @param routingKey the routing key, or {@code null} for the route's default
     * @param headers message headers, or {@code null} or empty for none (the header sources' still apply)
     * @return the event's id (the message id consumers deduplicate on)
     * @throws org.springframework.dao.DataAccessException when the database refuses it (such as invalid JSON, or a
     *     schema not installed); the application's transaction is then rolled back by its own rules
     */
    public long send(String channel, String jsonPayload, String routingKey, Map<String, String> headers) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(jsonPayload, "jsonPayload");
        Map<String, String> all = new LinkedHashMap<>();
        headerSources.forEach(source -> all.putAll(source.headers()));
        if (headers != null) {
            all.putAll(headers);
        }
        String[] keys = null;
        String[] values = null;
        if (!all.isEmpty()) {
            keys = all.keySet().toArray(String[]::new);
            values = all.values().toArray(String[]::new);
        }
        String[] k = keys;
        String[] v = values;
        Long id = jdbc.query(
                sql,
                ps -> {
                    ps.setString(1, channel);
                    ps.setString(2, jsonPayload);
                    ps.setString(3, routingKey);
                    ps.setArray(4, k == null ? null : ps.getConnection().createArrayOf("text", k));
                    ps.setArray(5, v == null ? null : ps.getConnection().createArrayOf("text", v));
                    ps.setLong(6, streamId);
                },
                rs -> rs.next() ? rs.getLong(1) : null);
        if (id == null) {
            throw new IllegalStateException("send() returned no id");
        }
        return id;
    }

    @Override
    public String toString() {
        return "OutboxPublisher{" + sql + ", stream " + streamId + '}';
    }
}
