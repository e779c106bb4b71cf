package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Keys and certificates the tests make with the JDK's keytool, and what trusts them. */
final class TestKeys {
    /** The alias of the key pair in a keystore made here. */
    static final String ALIAS = "key";

    private TestKeys() {}

    /** A PKCS12 keystore with an EC key pair and a self-signed certificate for {@code host}. */
    static Path keystore(Path file, String password, String host) throws Exception {
        Process process =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "keytool")
                                        .toString(),
                                "-genkeypair",
                                "-alias",
                                ALIAS,
                                "-keyalg",
                                "EC",
                                "-groupname",
                                "secp256r1",
                                "-dname",
                                "CN=" + host,
                                "-ext",
                                "SAN=ip:127.0.0.1,dns:localhost",
                                "-validity",
                                "2",
                                "-storetype",
                                "PKCS12",
                                "-keystore",
                                file.toString(),
                                "-storepass",
                                password,
                                "-keypass",
                                password)
                        .redirectErrorStream(true)
                        .start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return file;
    }

    /** A truststore holding only the certificate of {@code keystore}. */
    static KeyStore trusting(Path keystore, String password) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            keys.load(in, password.toCharArray());
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry(ALIAS, keys.getCertificate(ALIAS));
        return trust;
    }

    /** {@link #trusting} written to {@code file} (PKCS12, same password). */
    static Path truststoreFile(Path keystore, String password, Path file) throws Exception {
        try (OutputStream out = Files.newOutputStream(file)) {
            trusting(keystore, password).store(out, password.toCharArray());
        }
        return file;
    }

    /** The certificate of {@code keystore} written to {@code file} as PEM. */
    static Path certificatePem(Path keystore, String password, Path file) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            keys.load(in, password.toCharArray());
        }
        String base64 =
                java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(keys.getCertificate(ALIAS).getEncoded());
        Files.writeString(
                file, "-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n");
        return file;
    }

    /** A TLS context that trusts only the certificate of {@code keystore}. */
    static SSLContext trustingContext(Path keystore, String password) throws Exception {
        TrustManagerFactory factory =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trusting(keystore, password));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
