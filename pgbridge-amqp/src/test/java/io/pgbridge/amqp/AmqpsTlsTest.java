package io.pgbridge.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbridge.ConnectionException;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code amqps} trusts the JVM's default trust store and verifies the host name. A local TLS server presents a
 * self-signed certificate for {@code DNS:localhost} ({@code src/test/resources/tls/server.p12}, password
 * {@code changeit}); surefire makes {@code tls/trust.p12}, holding only that certificate, the default trust store. The
 * server speaks no AMQP, so every start fails; what matters is whether the TLS handshake got through.
 *
 * <p>Regenerate the files with {@code keytool -genkeypair -alias server -keyalg EC -groupname secp256r1 -dname
 * "CN=localhost" -ext "SAN=dns:localhost" -validity 36500 -keystore server.p12 -storetype PKCS12 -storepass changeit},
 * {@code keytool -exportcert} of that alias, and {@code keytool -importcert} into {@code trust.p12}.
 */
class AmqpsTlsTest {
    private SSLServerSocket server;
    private CompletableFuture<Boolean> handshake;

    @BeforeEach
    void startTlsServer() throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = getClass().getResourceAsStream("/tls/server.p12")) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "changeit".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket(0);
        handshake = CompletableFuture.supplyAsync(this::acceptOneHandshake);
    }

    private boolean acceptOneHandshake() {
        try (SSLSocket s = (SSLSocket) server.accept()) {
            s.startHandshake();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @AfterEach
    void stopTlsServer() throws IOException {
        server.close();
    }

    @Test
    void trustedCertificateForTheHostPassesTheHandshake() throws Exception {
        AmqpSink sink = sink("amqps://guest:guest@localhost:" + server.getLocalPort() + "/%2f");

        assertThatThrownBy(sink::start).isInstanceOf(ConnectionException.class);
        assertThat(handshake.get(10, TimeUnit.SECONDS))
                .as("TLS handshake with the default trust store")
                .isTrue();
    }

    @Test
    void certificateForAnotherHostIsRefused() throws Exception {
        AmqpSink sink = sink("amqps://guest:guest@127.0.0.1:" + server.getLocalPort() + "/%2f");

        assertThatThrownBy(sink::start)
                .isInstanceOf(ConnectionException.class)
                .hasMessageContaining("amqps://guest:****@127.0.0.1:")
                .hasRootCauseInstanceOf(java.security.cert.CertificateException.class)
                .rootCause()
                .hasMessageContaining("127.0.0.1");
        assertThat(handshake.get(10, TimeUnit.SECONDS))
                .as("hostname verification stops the handshake: the certificate names localhost only")
                .isFalse();
    }

    private static AmqpSink sink(String uri) throws GeneralSecurityException {
        return new AmqpSink(
                AmqpSinkConfig.from(TestSinkConfigs.of(uri, Map.of("amqp.connect-timeout-ms", "5000"))),
                Executors.defaultThreadFactory());
    }
}
