package io.pgbridge.spi.support;

import java.util.regex.Pattern;

/** Hides credentials in text that may reach a log or an exception message. */
public final class Redaction {
    /** {@code scheme://user:password@} — the password is everything up to the last {@code @} of the authority. */
    private static final Pattern USERINFO_PASSWORD = Pattern.compile("(://[^/:@\\s]*):[^/\\s]*@");
    /** {@code password=...} in a query string or a properties-style text. */
    private static final Pattern PASSWORD_PARAM =
            Pattern.compile("(?i)((?:password|passwd|pwd|token|secret)=)[^&;\\s]*");

    private Redaction() {}

    /** The text with URI passwords and {@code password=} values replaced by {@code ****}; {@code null} stays null. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String s = USERINFO_PASSWORD.matcher(text).replaceAll("$1:****@");
        return PASSWORD_PARAM.matcher(s).replaceAll("$1****");
    }
}
