package io.pgbridge.spi.support;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The user and password written in a URI's userinfo ({@code scheme://user:password@host}), percent-decoded as RFC 3986
 * says ({@code %40} is {@code @}; unlike form decoding, {@code +} stays {@code +}). Immutable; {@link #toString()}
 * hides the password.
 */
public final class UserInfo {
    private static final UserInfo NONE = new UserInfo(null, null);

    private final String user;
    private final Secret password;

    private UserInfo(String user, Secret password) {
        this.user = user;
        this.password = password;
    }

    /** The userinfo of {@code uri}; both parts {@code null} when it has none. */
    public static UserInfo of(URI uri) {
        String raw = uri.getRawUserInfo();
        if (raw == null || raw.isEmpty()) {
            return NONE;
        }
        int colon = raw.indexOf(':');
        String user = decode(colon < 0 ? raw : raw.substring(0, colon));
        return new UserInfo(
                user.isEmpty() ? null : user, colon < 0 ? null : Secret.of(decode(raw.substring(colon + 1))));
    }

    /** Percent-decodes one URI component, leaving {@code +} alone. */
    public static String decode(String component) {
        return URLDecoder.decode(component.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The user before the {@code :} (or the whole userinfo without one), or {@code null} when empty or absent. */
    public String user() {
        return user;
    }

    /** The password after the {@code :}, or {@code null} when the userinfo has no {@code :}. */
    public Secret password() {
        return password;
    }

    @Override
    public String toString() {
        return "UserInfo{user=" + user + ", password=" + (password == null ? "none" : "****") + '}';
    }
}
