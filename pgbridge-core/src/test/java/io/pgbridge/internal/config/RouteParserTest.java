package io.pgbridge.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConfigurationException;
import io.pgbridge.Route;
import io.pgbridge.Target;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteParserTest {

    @Test
    void parsesTheSeedsExample() {
        List<Route> routes = Route.parse(
                "pgchannel1->exchange:topic_exchange_name, pgchannel2->queue:queue_name, pgchannel3->topic:topic_name");

        assertThat(routes)
                .containsExactly(
                        Route.of("pgchannel1", Target.exchange("topic_exchange_name")),
                        Route.of("pgchannel2", Target.queue("queue_name")),
                        Route.of("pgchannel3", Target.topic("topic_name")));
    }

    @Test
    void keepsColonsAndDotsInTheTargetName() {
        assertThat(Route.parse("events->exchange:amq.topic,jobs->queue:a:b"))
                .containsExactly(
                        Route.of("events", Target.exchange("amq.topic")), Route.of("jobs", Target.queue("a:b")));
    }

    @Test
    void readsAnOptionalSinkName() {
        Route route = Route.parse("events->rabbit/exchange:amq.topic").get(0);

        assertThat(route.target().sink()).isEqualTo("rabbit");
        assertThat(route.target().kind()).isEqualTo("exchange");
        assertThat(route.target().name()).isEqualTo("amq.topic");
        assertThat(route).hasToString("events->rabbit/exchange:amq.topic");
    }

    @Test
    void toleratesATrailingComma() {
        assertThat(Route.parse("a->queue:b,")).hasSize(1);
    }

    @Test
    void reportsEveryMalformedEntryAtOnce() {
        assertThatThrownBy(() -> RouteParser.parse(
                        "PGBRIDGE_BRIDGE_CHANNELS",
                        "a=>queue:b, ->queue:c, d->queue, e->exchange:, f->:x, ,g->queue:h"))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
                        .as("one problem per bad entry")
                        .hasSize(6)
                        .anySatisfy(p -> assertThat(p).contains("'a=>queue:b'").contains("missing '->'"))
                        .anySatisfy(p -> assertThat(p).contains("missing channel"))
                        .anySatisfy(p -> assertThat(p).contains("'d->queue'").contains("has no kind"))
                        .anySatisfy(p -> assertThat(p).contains("missing target name"))
                        .anySatisfy(p -> assertThat(p).contains("missing target kind"))
                        .anySatisfy(p -> assertThat(p).contains("entry 6 is empty")));
    }

    @Test
    void rejectsAnEmptyString() {
        assertThatThrownBy(() -> Route.parse("  "))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("no routes");
    }
}
