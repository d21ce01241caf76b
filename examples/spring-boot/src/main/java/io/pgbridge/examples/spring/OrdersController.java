package io.pgbridge.examples.spring;

import java.math.BigDecimal;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /orders?id=..&total=..}: answers the outbox event's id, or 400 when the order is refused. */
@RestController
public class OrdersController {
    private final Orders orders;

    public OrdersController(Orders orders) {
        this.orders = orders;
    }

    @PostMapping("/orders")
    public String place(@RequestParam("id") long id, @RequestParam("total") BigDecimal total) {
        return Long.toString(orders.place(id, total));
    }

    @ExceptionHandler(IllegalArgumentException.class)
    @ResponseStatus(HttpStatus.BAD_REQUEST)
    public String refused(IllegalArgumentException e) {
        return e.getMessage();
    }
}
