package io.slidestream.serve;

import io.slidestream.config.ServeOptions;
import io.slidestream.errors.InvalidConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The service's only connector when {@code serve.tls.keystore} is set: HTTPS with the keystore's
 * key and certificate chain, TLS 1.2 and 1.3 with the JDK's default cipher suites. The keystore is
 * loaded here first, so a missing file or a wrong password stops the start with a clear error
 * instead of a handshake failure on the first request.
 */
final class HttpsConnector {
    private HttpsConnector() {}

    static ServerConnector connector(
            Server server, HttpConfiguration http, ServeAccess.Tls tls, String host, int port) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(load(tls));
        ssl.setKeyStorePassword(tls.password());
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        HttpConfiguration https = new HttpConfiguration(http);
        https.setSecureScheme("https");
        https.addCustomizer(new SecureRequestCustomizer());
        ServerConnector connector =
                new ServerConnector(
                        server,
                        new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
                        new HttpConnectionFactory(https));
        connector.setHost(host);
        connector.setPort(port);
        return connector;
    }

    private static KeyStore load(ServeAccess.Tls tls) {
        String key = ServeOptions.TLS_KEYSTORE.key();
        if (!Files.isRegularFile(tls.keystore())) {
            throw InvalidConfig.of(key, tls.keystore(), "is not a file");
        }
        if (tls.password() == null) {
            throw InvalidConfig.missing(
                    ServeOptions.TLS_KEYSTORE_PASSWORD.key(), "the password of " + key);
        }
        try (InputStream in = Files.newInputStream(tls.keystore())) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, tls.password().toCharArray());
            if (!store.aliases().hasMoreElements()) {
                throw InvalidConfig.of(key, tls.keystore(), "holds no key");
            }
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw InvalidConfig.of(
                    key,
                    tls.keystore(),
                    "cannot be read with "
                            + ServeOptions.TLS_KEYSTORE_PASSWORD.key()
                            + " as a PKCS12 or JKS keystore ("
                            + e.getMessage()
                            + ")");
        }
    }
}
