package io.pgbridge.internal.notify;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RoutingKeyConventionTest {

    @Test
    void splitsTheSeedsExampleAtTheFirstBar() {
        String payload = "signup|A new user signup|with a bar";
        int bar = RoutingKeyConvention.separatorIndex(payload);

        assertThat(payload.substring(0, bar)).isEqualTo("signup");
        assertThat(payload.substring(bar + 1)).isEqualTo("A new user signup|with a bar");
    }

    @Test
    void leavesPayloadsThatCannotStartWithARoutingKeyAlone() {
        assertThat(RoutingKeyConvention.separatorIndex("{\"a\":\"x|y\"}"))
                .as("JSON")
                .isEqualTo(-1);
        assertThat(RoutingKeyConvention.separatorIndex("[1,\"|\"]"))
                .as("JSON array")
                .isEqualTo(-1);
        assertThat(RoutingKeyConvention.separatorIndex("a sentence | with a bar"))
                .as("whitespace")
                .isEqualTo(-1);
        assertThat(RoutingKeyConvention.separatorIndex("|leading bar"))
                .as("empty key")
                .isEqualTo(-1);
        assertThat(RoutingKeyConvention.separatorIndex("no bar")).isEqualTo(-1);
        assertThat(RoutingKeyConvention.separatorIndex("k".repeat(256) + "|m"))
                .as("over 255 bytes")
                .isEqualTo(-1);
    }

    @Test
    void acceptsDottedAndUnicodeKeys() {
        assertThat(RoutingKeyConvention.separatorIndex("order.created|{}")).isEqualTo(13);
        assertThat(RoutingKeyConvention.separatorIndex("café|x")).isEqualTo(4);
    }
}
