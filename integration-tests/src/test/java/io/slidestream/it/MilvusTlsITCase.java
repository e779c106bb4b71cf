package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.milvus.v2.client.MilvusClientV2;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.local.MilvusLite;
import io.slidestream.local.StoreChecks;
import io.slidestream.local.cluster.TlsFront;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.sink.MilvusStoreReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Milvus over TLS with a private certificate authority, as a hospital runs it: Milvus Lite behind a
 * {@link TlsFront} with a key the test makes (Milvus Lite itself speaks plain gRPC only).
 * SlideStream's client, given {@code milvus.tls.trust-cert}, creates a collection and queries it
 * through TLS; the store check with a certificate that does not match stops with {@code
 * INVALID_CONFIG} naming the key, and a plain {@code http://} URI to the TLS port is a store that
 * does not answer, not bad data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MilvusTlsITCase {
    private static final String PASSWORD = "front-secret";
    private static final Duration CHECK = Duration.ofSeconds(10);

    @TempDir static Path dir;

    private MilvusLite milvus;
    private TlsFront front;
    private Path trust;
    private Path stranger;

    @BeforeAll
    void start() throws Exception {
        Path keystore = TestKeys.keystore(dir.resolve("milvus.p12"), PASSWORD, "127.0.0.1");
        trust = TestKeys.certificatePem(keystore, PASSWORD, dir.resolve("milvus-ca.pem"));
        Path other = TestKeys.keystore(dir.resolve("other.p12"), PASSWORD, "127.0.0.1");
        stranger = TestKeys.certificatePem(other, PASSWORD, dir.resolve("other-ca.pem"));
        milvus = MilvusLite.start(dir.resolve("milvus.db"));
        front = TlsFront.start(keystore, PASSWORD, milvus.port());
    }

    @AfterAll
    void stop() {
        if (front != null) {
            front.close();
        }
        if (milvus != null) {
            milvus.close();
        }
    }

    @Test
    void collectionsAreMadeAndQueriedThroughTls() {
        MilvusConfig config = config("https", trust);
        StoreChecks.milvus(config, CHECK);
        MilvusClientV2 client = MilvusCollectionAdmin.connect(config);
        try {
            MilvusCollectionAdmin.ensureCollection(
                    client, config, config.tilesCollection(), MilvusCollections.TILES, 8);
            assertThat(client.listCollections().getCollectionNames())
                    .contains(config.tilesCollection());
        } finally {
            client.close();
        }
        try (MilvusStoreReader reader = MilvusStoreReader.open(config)) {
            assertThat(reader.countTiles("no-such-slide")).isZero();
        }
    }

    @Test
    void aCertificateFromAnotherAuthorityStopsTheCheckNamingTheKey() {
        assertThatThrownBy(() -> StoreChecks.milvus(config("https", stranger), CHECK))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> {
                            assertThat(e.code())
                                    .as(e.getMessage())
                                    .isEqualTo(ErrorCode.INVALID_CONFIG);
                            assertThat(e.getMessage())
                                    .contains("failed the TLS handshake")
                                    .contains(MilvusOptions.TLS_TRUST_CERT.key());
                        });
    }

    @Test
    void plainGrpcToTheTlsPortIsAStoreThatDoesNotAnswer() {
        assertThatThrownBy(() -> StoreChecks.milvus(config("http", null), CHECK))
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE));
    }

    private MilvusConfig config(String scheme, Path trustCert) {
        var builder =
                MilvusConfig.builder()
                        .set(MilvusOptions.URI, scheme + "://127.0.0.1:" + front.port())
                        .set(MilvusOptions.TILES_COLLECTION, "tls_tiles")
                        .set(MilvusOptions.SLIDES_COLLECTION, "tls_slides")
                        .set(MilvusOptions.RPC_TIMEOUT, CHECK);
        if (trustCert != null) {
            builder.set(MilvusOptions.TLS_TRUST_CERT, trustCert.toString());
        }
        return builder.build();
    }
}
