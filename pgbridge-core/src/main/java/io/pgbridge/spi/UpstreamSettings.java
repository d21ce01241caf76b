package io.pgbridge.spi;

/**
 * The settings every sink shares: where the broker is and how to log in. A sink reads the URI through
 * {@link SinkConfig#uri()}, and these credentials as the fallback when the URI has no userinfo; it names these
 * settings in its error messages ({@link Settings#problem}).
 */
public final class UpstreamSettings {
    /** {@code upstream.uri} ({@code PGBRIDGE_UPSTREAM_URI}, the seed's {@code PGPROXY_LOCAL-UPSTREAM_CONFIG-URI}). */
    public static final Setting URI = Setting.string(
                    "upstream.uri", "Where the sink publishes: amqp://user:password@host:5672/vhost, mqtt://..., ...")
            .withAliases("PGPROXY_LOCAL-UPSTREAM_CONFIG-URI");

    /** {@code upstream.username}: the broker user when the URI has none (seed: {@code ...UPSTREAM_CONFIG-USERNAME}). */
    public static final Setting USERNAME = Setting.string("upstream.username", "Broker user, when not in the URI")
            .withAliases("PGPROXY_LOCAL-UPSTREAM_CONFIG-USERNAME");

    /** {@code upstream.password}: the broker password when the URI has none (seed: {@code ...UPSTREAM_CONFIG-PASSWORD}). */
    public static final Setting PASSWORD = Setting.secret("upstream.password", "Broker password, when not in the URI")
            .withAliases("PGPROXY_LOCAL-UPSTREAM_CONFIG-PASSWORD");

    private UpstreamSettings() {}
}
