package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.local.cluster.IcebergRestServer;
import io.slidestream.local.cluster.OAuthGateway;
import io.slidestream.local.cluster.S3ProxyServer;
import io.slidestream.local.cluster.Testbed;
import io.slidestream.sink.IcebergOptions;
import io.slidestream.sink.IcebergTableReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Iceberg REST catalog as a lab runs it, behind OAuth2: S3Proxy as the object store, Iceberg's
 * REST catalog server, and an {@link OAuthGateway} in front of it that issues bearer tokens for
 * client credentials and refuses every request without one. SlideStream reaches it through the
 * pass-through keys {@code iceberg.catalog-properties.credential} and {@code oauth2-server-uri}:
 * the job embeds a slide through it (rows read back through the gateway); {@code run --check-only}
 * without a credential, or with a wrong secret, stops before anything starts, names the catalog and
 * the key to fix, and never prints the secret.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class IcebergCredentialsITCase {
    @RegisterExtension static final MiniClusterExtension FLINK = StoreTestEnvironment.miniCluster();

    private static final String CLIENT = "slidestream-job";
    private static final String SECRET = "catalog-secret-9Vw";

    @TempDir static Path dir;

    private final List<AutoCloseable> running = new ArrayList<>();
    private OAuthGateway gateway;
    private S3ProxyServer s3;
    private EndToEndStack stack;

    @BeforeAll
    void start() {
        Testbed testbed = Testbed.locate();
        s3 = started(S3ProxyServer.start(testbed, dir.resolve("s3"), List.of("warehouse")));
        S3ProxyServer.configureClientsInThisJvm();
        IcebergRestServer catalog =
                started(
                        IcebergRestServer.start(
                                testbed, dir.resolve("rest"), "s3://warehouse/", s3));
        gateway = started(OAuthGateway.start(catalog.uri(), CLIENT, SECRET));
        stack = started(EndToEndStack.start(dir, "iceberg-auth", 2));
    }

    @AfterAll
    void stop() throws Exception {
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).close();
        }
    }

    @Test
    void theJobWritesItsTablesThroughTheAuthenticatedCatalog() throws Exception {
        SlideStreamConfig job = stack.config(catalog(CLIENT + ":" + SECRET));
        Path slide =
                EndToEndStack.writeSlide(
                        EndToEndStack.sixByFive(910),
                        Files.createDirectories(dir.resolve("slides")).resolve("authed.tiff"),
                        30);
        stack.embed(job, "iceberg-auth", Map.of("authed-1", slide), 30);
        assertThat(IcebergTableReader.countPerSlide(job.iceberg(), job.iceberg().tilesTable()))
                .isEqualTo(Map.of("authed-1", 30L));
    }

    @Test
    void noCredentialStopsTheCheckNamingTheCatalogAndTheKey() {
        CommandRun run = checkOnly(catalog(null));
        assertThat(run.code()).as(run.output()).isNotZero();
        assertThat(run.err())
                .contains("INVALID_CONFIG")
                .contains("catalog at " + gateway.uri() + " refused SlideStream's credentials")
                .contains("iceberg.catalog-properties.credential");
    }

    @Test
    void aWrongSecretStopsTheCheckWithoutPrintingIt() {
        CommandRun run = checkOnly(catalog(CLIENT + ":not-the-secret-4Kd"));
        assertThat(run.code()).as(run.output()).isNotZero();
        assertThat(run.err())
                .contains("refused SlideStream's credentials")
                .contains("iceberg.catalog-properties.credential")
                .doesNotContain("not-the-secret-4Kd");
    }

    @Test
    void theRightCredentialPassesTheCheck() {
        CommandRun run = checkOnly(catalog(CLIENT + ":" + SECRET));
        assertThat(run.code()).as(run.output()).isZero();
        assertThat(run.output()).doesNotContain(SECRET);
    }

    /** The catalog keys: the REST catalog behind the gateway, with {@code credential} if given. */
    private Map<String, String> catalog(String credential) {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put(IcebergOptions.CATALOG_TYPE.key(), "rest");
        keys.put(IcebergOptions.URI.key(), gateway.uri());
        keys.put(IcebergOptions.WAREHOUSE.key(), "s3://warehouse/");
        keys.putAll(s3.icebergCatalogProperties());
        if (credential != null) {
            String prefix = IcebergOptions.CATALOG_PROPERTIES.key() + ".";
            keys.put(prefix + "credential", credential);
            keys.put(prefix + "oauth2-server-uri", gateway.uri() + "/v1/oauth/tokens");
        }
        return keys;
    }

    private CommandRun checkOnly(Map<String, String> catalog) {
        List<String> keys = new ArrayList<>(stack.keyArguments("kafka.", "milvus.", "inference."));
        catalog.forEach(
                (k, v) -> {
                    keys.add("-D");
                    keys.add(k + "=" + v);
                });
        return CommandRun.of(keys, "run", "--check-only");
    }

    private <T extends AutoCloseable> T started(T resource) {
        running.add(resource);
        return resource;
    }
}
