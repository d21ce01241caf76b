package io.pgbridge.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot application with pgbridge: {@code POST /orders?id=42&total=99.5} writes an order and its outbox
 * event in one transaction ({@link Orders}); the starter's bridge delivers the event to RabbitMQ (see {@code
 * application.properties}). Run it from the IDE with PostgreSQL and RabbitMQ on localhost; {@code GET
 * /actuator/health} shows the {@code pgbridge} component.
 */
@SpringBootApplication
public class OrdersApplication {
    public static void main(String[] args) {
        SpringApplication.run(OrdersApplication.class, args);
    }
}
