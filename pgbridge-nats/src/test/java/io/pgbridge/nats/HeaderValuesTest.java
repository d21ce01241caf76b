package io.pgbridge.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.nats.client.impl.Headers;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** Header values: whatever the event holds, NATS accepts the encoded value and a consumer decodes it back. */
class HeaderValuesTest {

    @Property(tries = 1000)
    void everyValueTravelsAndComesBackUnchanged(@ForAll("values") String value) {
        String encoded = HeaderValues.encode(value);
        assertThatCode(() -> new Headers().add("h", encoded))
                .as("jnats accepts %s", encoded)
                .doesNotThrowAnyException();
        assertThat(HeaderValues.decode(encoded)).isEqualTo(value);
    }

    @Provide
    Arbitrary<String> values() {
        return Arbitraries.oneOf(
                // any text PostgreSQL can hold: valid Unicode, no lone surrogates
                Arbitraries.strings().all().ofMaxLength(40).filter(s -> s.codePoints()
                        .allMatch(c -> c < 0xD800 || c > 0xDFFF)),
                Arbitraries.strings().ascii().ofMaxLength(40),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(40),
                Arbitraries.strings().ascii().ofMaxLength(20).map(s -> "=?UTF-8?B?" + s + "?="));
    }

    @Test
    void printableAsciiIsSentAsItIs() {
        assertThat(HeaderValues.encode("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assertThat(HeaderValues.encode("Zürich")).isEqualTo("=?UTF-8?B?WsO8cmljaA==?=");
    }
}
