package io.pgbridge.examples.spring;

import io.pgbridge.spring.boot.OutboxPublisher;
import java.math.BigDecimal;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Places orders: the order row and its outbox event commit together, or neither does. */
@Service
public class Orders {
    private final JdbcTemplate jdbc;
    private final OutboxPublisher outbox;

    public Orders(JdbcTemplate jdbc, OutboxPublisher outbox) {
        this.jdbc = jdbc;
        this.outbox = outbox;
    }

    /**
     * Writes the order and an {@code order.created} event on channel {@code orders}.
     *
     * @throws IllegalArgumentException when the total is negative, after both writes: the transaction rolls back and
     *     nothing is delivered
     */
    @Transactional
    public long place(long id, BigDecimal total) {
        jdbc.update("insert into orders_example.orders (id, total) values (?, ?)", id, total);
        long eventId = outbox.send(
                "orders",
                "{\"id\": " + id + ", \"total\": " + total + "}",
                "order.created",
                Map.of("source", "example"));
        if (total.signum() < 0) {
            throw new IllegalArgumentException("total must not be negative, was " + total);
        }
        return eventId;
    }
}
