package io.pgbridge.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs a request the Standard Webhooks way (standardwebhooks.com, "Signature scheme"): HMAC-SHA256 with the
 * decoded secret over {@code <webhook-id>.<webhook-timestamp>.<body>}, sent as {@code webhook-signature: v1,<base64>}.
 * Thread-safe: a {@link Mac} is created per signature.
 */
final class WebhookSigner {
    private final SecretKeySpec key;

    WebhookSigner(byte[] key) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /** The {@code webhook-signature} header value. */
    String sign(String id, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update((id + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}
