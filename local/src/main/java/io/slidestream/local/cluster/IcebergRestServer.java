package io.slidestream.local.cluster;

import io.slidestream.local.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Iceberg's REST catalog server as its own process ({@code RESTCatalogServer} from
 * iceberg-open-api's test fixtures, the code of the apache/iceberg-rest-fixture image) on a fixed
 * loopback port. Its backend is a JDBC catalog on a SQLite file, so the catalog survives a restart,
 * and it writes table metadata to an S3 warehouse with S3FileIO. Configured through its {@code
 * CATALOG_*} environment variables, as the image is.
 */
public final class IcebergRestServer extends RestartableServer {
    private final Path dir;
    private final int port;
    private final Testbed testbed;
    private final Map<String, String> environment;

    private IcebergRestServer(Path dir, int port, Testbed testbed, Map<String, String> env) {
        super(Duration.ofSeconds(10));
        this.dir = dir;
        this.port = port;
        this.testbed = testbed;
        this.environment = env;
    }

    /** Starts the server with its warehouse at {@code warehouse} (s3://...) on {@code s3}. */
    public static IcebergRestServer start(
            Testbed testbed, Path dir, String warehouse, S3ProxyServer s3) {
        int port = Ports.free();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CATALOG_REST_PORT", Integer.toString(port));
        env.put("CATALOG_URI", "jdbc:sqlite:" + dir.resolve("catalog.db").toAbsolutePath());
        env.put("CATALOG_WAREHOUSE", warehouse);
        env.put("CATALOG_IO__IMPL", "org.apache.iceberg.aws.s3.S3FileIO");
        env.put("CATALOG_S3_ENDPOINT", s3.endpoint());
        env.put("CATALOG_S3_PATH__STYLE__ACCESS", "true");
        env.put("CATALOG_S3_ACCESS__KEY__ID", S3ProxyServer.ACCESS_KEY);
        env.put("CATALOG_S3_SECRET__ACCESS__KEY", S3ProxyServer.SECRET_KEY);
        env.put("CATALOG_CLIENT_REGION", S3ProxyServer.REGION);
        env.putAll(S3ProxyServer.CLIENT_ENVIRONMENT);
        IcebergRestServer server = new IcebergRestServer(dir, port, testbed, env);
        server.start();
        return server;
    }

    /** Starts the process (again), on the same port and catalog file. */
    @Override
    public synchronized void start() {
        ChildProcess process =
                running(
                        ChildProcess.start(
                                "iceberg-rest",
                                ChildProcess.java(
                                        testbed.classpath("iceberg-rest"),
                                        List.of("-Xmx512m"),
                                        "org.apache.iceberg.rest.RESTCatalogServer",
                                        List.of()),
                                environment,
                                dir,
                                dir.resolve("iceberg-rest.log")));
        process.awaitReady("serving /v1/config", Duration.ofSeconds(90), this::answers);
    }

    private boolean answers() {
        if (!Ports.answers(port)) {
            return false;
        }
        try {
            HttpResponse<Void> response =
                    HttpClient.newHttpClient()
                            .send(
                                    HttpRequest.newBuilder(URI.create(uri() + "/v1/config"))
                                            .timeout(Duration.ofSeconds(2))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public String uri() {
        return "http://127.0.0.1:" + port;
    }
}
