package io.pgbridge.internal.config;

import io.pgbridge.spi.support.Redaction;
import io.pgbridge.spi.support.Secret;
import io.pgbridge.spi.support.UserInfo;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * A PostgreSQL location, from either form users write: the seed's {@code postgresql://user:pass@host:port/db} (also
 * {@code postgres://}, as libpq accepts) or a pgjdbc {@code jdbc:postgresql:} URL. Credentials are taken out of the
 * URL and kept apart, so that the URL can be logged.
 */
public final class PostgresUri {
    private final String jdbcUrl;
    private final String user;
    private final Secret password;

    private PostgresUri(String jdbcUrl, String user, Secret password) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
    }

    /**
     * @throws IllegalArgumentException with the rule broken (the message never contains the password)
     */
    public static PostgresUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("must not be empty");
        }
        String s = text.trim();
        if (s.startsWith("jdbc:postgresql:")) {
            return new PostgresUri(s, null, null);
        }
        if (!s.startsWith("postgresql://") && !s.startsWith("postgres://")) {
            throw new IllegalArgumentException(
                    "must start with postgresql:// (postgresql://user:password@host:5432/database) or jdbc:postgresql:");
        }
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("is not a valid URI (" + Redaction.redact(e.getReason()) + ")");
        }
        String host = uri.getHost();
        if (host == null
                && uri.getRawAuthority() != null
                && !uri.getRawAuthority().endsWith("@")) {
            throw new IllegalArgumentException("has a host that is not valid");
        }
        UserInfo userInfo = UserInfo.of(uri);
        StringBuilder jdbc = new StringBuilder("jdbc:postgresql://");
        jdbc.append(host == null ? "localhost" : host);
        if (uri.getPort() > 0) {
            jdbc.append(':').append(uri.getPort());
        }
        String path = uri.getRawPath();
        jdbc.append(path == null || path.isEmpty() ? "/" : path);
        if (uri.getRawQuery() != null) {
            jdbc.append('?').append(uri.getRawQuery());
        }
        return new PostgresUri(jdbc.toString(), userInfo.user(), userInfo.password());
    }

    /** The pgjdbc URL, without the credentials that came in the userinfo part. May still hold URL parameters. */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** The user from the userinfo part, or {@code null}. */
    public String user() {
        return user;
    }

    /** The password from the userinfo part, or {@code null}. */
    public Secret password() {
        return password;
    }

    @Override
    public String toString() {
        return Redaction.redact(jdbcUrl) + (user == null ? "" : " (user " + user + ")");
    }
}
