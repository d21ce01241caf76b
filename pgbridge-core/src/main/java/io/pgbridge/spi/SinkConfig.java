package io.pgbridge.spi;

import io.pgbridge.spi.support.Redaction;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * What a {@link SinkProvider} gets to create a sink: the upstream URI, all settings, and the thread factory to use
 * for any thread the sink starts.
 */
public interface SinkConfig {

    /**
     * The upstream URI as configured ({@code amqp://user:pass@host:5672/vhost}, ...), or {@code null} when none was
     * given. It may hold a password: pass it to the client library, never to a log; use
     * {@link #redactedUri()} for messages.
     */
    String uri();

    /** The URI with its password replaced by {@code ****}, for logs and errors; {@code null} when there is none. */
    String redactedUri();

    /** Every setting; the provider reads the ones it declared in {@link SinkProvider#settings()}. */
    Settings settings();

    /** Creates every thread the sink starts; threads get a {@code pgbridge-} name from the sink. */
    ThreadFactory threadFactory();

    /**
     * The upstream URI parsed, for sinks that take its parts apart. When it is missing, not a valid URI or without a
     * scheme, adds one problem naming {@code PGBRIDGE_UPSTREAM_URI} (value redacted) to {@code problems} and returns
     * {@code null}, so that the sink reports it together with its other problems.
     *
     * @param form how the sink's URI is written, for the message ({@code mqtt://host:1883 or mqtts://host:8883})
     */
    default URI parsedUri(String form, Problems problems) {
        return parseUri(uri(), form, problems);
    }

    /**
     * An upstream URI given in code (a sink config's builder) parsed as {@link #parsedUri} does: {@code null} after
     * adding a problem naming {@code PGBRIDGE_UPSTREAM_URI} when it is missing, invalid or without a scheme.
     */
    static URI parseUri(String text, String form, Problems problems) {
        if (text == null) {
            problems.add(UpstreamSettings.URI.envName() + " is missing: write it as " + form);
            return null;
        }
        URI parsed;
        try {
            parsed = new URI(text);
        } catch (URISyntaxException e) {
            problems.add(Settings.problem(UpstreamSettings.URI, text, "is not a valid URI; write it as " + form));
            return null;
        }
        if (parsed.getScheme() == null) {
            problems.add(Settings.problem(UpstreamSettings.URI, text, "has no scheme; write it as " + form));
            return null;
        }
        return parsed;
    }

    /**
     * A configuration as the bridge hands it to a provider, for creating a sink outside a bridge (tests, tools):
     * {@code new AmqpSinkProvider().create(SinkConfig.of(uri, Settings.of(map), threads))}.
     *
     * @param uri the upstream URI, or {@code null}
     */
    static SinkConfig of(String uri, Settings settings, ThreadFactory threadFactory) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(threadFactory, "threadFactory");
        String trimmed = uri == null ? null : uri.trim();
        return new SinkConfig() {
            @Override
            public String uri() {
                return trimmed;
            }

            @Override
            public String redactedUri() {
                return Redaction.redact(trimmed);
            }

            @Override
            public Settings settings() {
                return settings;
            }

            @Override
            public ThreadFactory threadFactory() {
                return threadFactory;
            }

            @Override
            public String toString() {
                return "SinkConfig{" + redactedUri() + ", " + settings + '}';
            }
        };
    }
}
