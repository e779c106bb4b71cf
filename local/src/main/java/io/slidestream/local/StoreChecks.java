package io.slidestream.local;

import io.milvus.v2.client.MilvusClientV2;
import io.slidestream.config.KafkaConfig;
import io.slidestream.config.KafkaOptions;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/**
 * Asks each external store once whether it answers, with a short deadline, so that {@code run}
 * fails in seconds with a message that names the address and the key to fix, instead of a job that
 * starts and then restarts against a store that is not there. Each check throws {@link
 * ErrorCode#STORE_UNAVAILABLE}.
 */
public final class StoreChecks {

    private StoreChecks() {}

    /** Kafka: the cluster must describe itself (an admin round trip to a broker). */
    public static void kafka(KafkaConfig config, Duration timeout) {
        Properties p = config.clientPropertiesAsProperties();
        p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        int millis = (int) timeout.toMillis();
        p.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(millis));
        p.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(millis));
        String key = KafkaOptions.BOOTSTRAP_SERVERS.key();
        Admin admin;
        try {
            admin = Admin.create(p);
        } catch (RuntimeException e) {
            throw unavailable("Kafka", config.bootstrapServers(), key, e);
        }
        try {
            admin.describeCluster().nodes().get(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("Kafka", config.bootstrapServers(), key, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthenticationException refused) {
                throw credentialsRefused(config, refused);
            }
            throw unavailable("Kafka", config.bootstrapServers(), key, e.getCause());
        } catch (TimeoutException | RuntimeException e) {
            throw unavailable("Kafka", config.bootstrapServers(), key, e);
        } finally {
            // Without a deadline, close would wait for a call still retrying against no broker.
            admin.close(Duration.ofSeconds(1));
        }
    }

    /**
     * Milvus: a client must connect and list the collections. A TLS handshake that fails (an
     * untrusted certificate, or TLS spoken to a plain port) is a configuration error naming {@code
     * milvus.tls.trust-cert}.
     */
    public static void milvus(MilvusConfig config, Duration timeout) {
        MilvusConfig quick = config.toBuilder().set(MilvusOptions.RPC_TIMEOUT, timeout).build();
        MilvusClientV2 client;
        try {
            client = MilvusCollectionAdmin.connect(quick);
        } catch (RuntimeException e) {
            SSLException tls = tlsHandshakeFailure(config);
            if (tls != null) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_CONFIG,
                        "Milvus at "
                                + config.uri()
                                + " failed the TLS handshake ("
                                + tls.getClass().getSimpleName()
                                + ": "
                                + tls.getMessage()
                                + "); fix "
                                + MilvusOptions.TLS_TRUST_CERT.key()
                                + " (the PEM of the authority that signed Milvus's certificate)"
                                + " or "
                                + MilvusOptions.URI.key(),
                        e);
            }
            throw unavailable("Milvus", config.uri(), MilvusOptions.URI.key(), e);
        }
        try {
            client.listCollections();
        } catch (RuntimeException e) {
            throw unavailable("Milvus", config.uri(), MilvusOptions.URI.key(), e);
        } finally {
            client.close();
        }
    }

    /**
     * Iceberg: the catalog must open (a REST catalog answers its config endpoint, a JDBC catalog
     * connects); {@link IcebergCatalogs#open} already fails with STORE_UNAVAILABLE.
     */
    public static void iceberg(IcebergConfig config) {
        IcebergCatalogs.close(IcebergCatalogs.open(config));
    }

    /**
     * For an {@code https://} Milvus that did not answer: a TLS handshake with the JDK, trusting
     * what the client trusts, so that a certificate the client refuses is named as such (the gRPC
     * client only reports that it waited for a connection). The handshake's failure, or null when
     * it succeeds or the server cannot be reached at all.
     */
    private static SSLException tlsHandshakeFailure(MilvusConfig config) {
        URI uri = URI.create(config.uri());
        if (!"https".equals(uri.getScheme())) {
            return null;
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            TrustManagerFactory trust =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            KeyStore authorities = null;
            if (config.tlsTrustCert().isPresent()) {
                authorities = KeyStore.getInstance(KeyStore.getDefaultType());
                authorities.load(null, null);
                try (InputStream in = Files.newInputStream(Path.of(config.tlsTrustCert().get()))) {
                    int i = 0;
                    for (Certificate c :
                            CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        authorities.setCertificateEntry("ca-" + i++, c);
                    }
                }
            }
            trust.init(authorities);
            context.init(null, trust.getTrustManagers(), null);
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
                socket.connect(
                        new InetSocketAddress(
                                uri.getHost(), uri.getPort() < 0 ? 443 : uri.getPort()),
                        5_000);
                socket.setSoTimeout(5_000);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                socket.startHandshake();
            }
            return null;
        } catch (SSLException refused) {
            return refused;
        } catch (IOException | GeneralSecurityException unreachable) {
            return null;
        }
    }

    /**
     * The broker answered but refused SlideStream's credentials: a configuration error, named by
     * the key to fix (never with the secret itself).
     */
    private static SlideStreamException credentialsRefused(
            KafkaConfig config, AuthenticationException cause) {
        String fix =
                cause instanceof SslAuthenticationException
                        ? KafkaOptions.PROPERTIES_PREFIX
                                + "ssl.truststore.location (the broker's certificate is not"
                                + " trusted, or the TLS handshake failed)"
                        : KafkaOptions.PROPERTIES_PREFIX
                                + "sasl.jaas.config (user and password) and "
                                + KafkaOptions.PROPERTIES_PREFIX
                                + "sasl.mechanism";
        return new SlideStreamException(
                ErrorCode.INVALID_CONFIG,
                "Kafka at "
                        + config.bootstrapServers()
                        + " refused SlideStream's credentials ("
                        + cause.getClass().getSimpleName()
                        + ": "
                        + cause.getMessage()
                        + "); fix "
                        + fix,
                cause);
    }

    private static SlideStreamException unavailable(
            String store, String address, String key, Throwable cause) {
        return new SlideStreamException(
                ErrorCode.STORE_UNAVAILABLE,
                store
                        + " is not reachable at "
                        + address
                        + " ("
                        + (cause == null
                                ? "no answer"
                                : cause.getClass().getSimpleName() + ": " + cause.getMessage())
                        + "); start it or fix "
                        + key,
                cause);
    }
}
