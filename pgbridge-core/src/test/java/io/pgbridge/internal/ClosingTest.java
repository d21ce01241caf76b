package io.pgbridge.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ClosingTest {

    @Test
    void ignoresNull() {
        assertThatCode(() -> Closing.quietly(null, "nothing"))
                .as("a null resource")
                .doesNotThrowAnyException();
    }

    @Test
    void closesOnce() {
        AtomicInteger closes = new AtomicInteger();
        Closing.quietly(closes::incrementAndGet, "a resource");
        assertThat(closes).as("closes").hasValue(1);
    }

    @Test
    void swallowsAnSqlExceptionFromClose() {
        AtomicInteger closes = new AtomicInteger();
        AutoCloseable broken = () -> {
            closes.incrementAndGet();
            throw new SQLException("connection gone", "08006");
        };
        assertThatCode(() -> Closing.quietly(broken, "a broken connection"))
                .as("an SQLException from close")
                .doesNotThrowAnyException();
        assertThat(closes).as("closes").hasValue(1);
    }

    @Test
    void keepsTheInterruptOfAnInterruptedClose() {
        AutoCloseable interrupted = () -> {
            throw new InterruptedException("close interrupted");
        };
        try {
            Closing.quietly(interrupted, "an interruptible resource");
            assertThat(Thread.currentThread().isInterrupted())
                    .as("interrupt flag after an InterruptedException from close")
                    .isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void letsUncheckedExceptionsAndErrorsThrough() {
        for (Throwable t : List.of(new IllegalStateException("bug"), new AssertionError("error"))) {
            AutoCloseable failing = () -> {
                if (t instanceof RuntimeException e) {
                    throw e;
                }
                throw (Error) t;
            };
            assertThatThrownBy(() -> Closing.quietly(failing, "a failing resource"))
                    .as("a %s from close", t.getClass().getSimpleName())
                    .isSameAs(t);
        }
    }
}
