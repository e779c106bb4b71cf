package io.slidestream.local.cluster;

import io.slidestream.local.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An S3-compatible object store as its own process: S3Proxy on jclouds' filesystem provider, on a
 * fixed loopback port, with its objects under one folder (each bucket a sub-folder, created up
 * front). Stopping and starting it again keeps the objects and the port, which is how the local
 * cluster simulates an object-store outage.
 */
public final class S3ProxyServer extends RestartableServer {
    public static final String ACCESS_KEY = "slidestream";
    public static final String SECRET_KEY = "slidestream-local-secret";
    public static final String REGION = "us-east-1";

    /**
     * What every AWS SDK client of this store needs, as (environment variable, system property,
     * value): AWS SDK v2 (2.30 and later) sends trailing CRC checksums with chunked uploads by
     * default, which S3Proxy rejects ("The provided 'x-amz-content-sha256' header does not match"),
     * so checksums go to "when required"; the EC2 metadata endpoint is switched off and the region
     * given, so no client waits on a probe of it (about 40 s off EC2).
     */
    private static final List<List<String>> CLIENT_SETTINGS =
            List.of(
                    List.of(
                            "AWS_REQUEST_CHECKSUM_CALCULATION",
                            "aws.requestChecksumCalculation",
                            "WHEN_REQUIRED"),
                    List.of(
                            "AWS_RESPONSE_CHECKSUM_VALIDATION",
                            "aws.responseChecksumValidation",
                            "WHEN_REQUIRED"),
                    List.of("AWS_EC2_METADATA_DISABLED", "aws.disableEc2Metadata", "true"),
                    // Processes only: readers in this JVM name the region in their own settings.
                    List.of("AWS_REGION", "", REGION));

    /** {@link #CLIENT_SETTINGS} as the environment of a client process. */
    public static final Map<String, String> CLIENT_ENVIRONMENT =
            CLIENT_SETTINGS.stream()
                    .collect(
                            java.util.stream.Collectors.toUnmodifiableMap(
                                    s -> s.get(0), s -> s.get(2)));

    /**
     * {@link #CLIENT_SETTINGS} as system properties of this JVM, where not set already: {@link
     * ClusterStack} sets them, so that readers of the stack's tables here (tests, {@code bench
     * chaos}) reach the store too.
     */
    public static void configureClientsInThisJvm() {
        for (List<String> setting : CLIENT_SETTINGS) {
            if (!setting.get(1).isEmpty() && System.getProperty(setting.get(1)) == null) {
                System.setProperty(setting.get(1), setting.get(2));
            }
        }
    }

    private final Path dir;
    private final int port;
    private final Testbed testbed;

    /**
     * The job keys ({@code iceberg.catalog-properties.*}) with which Iceberg's S3FileIO reaches
     * this store.
     */
    public Map<String, String> icebergCatalogProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        String prefix = "iceberg.catalog-properties.";
        p.put(prefix + "io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
        p.put(prefix + "s3.endpoint", endpoint());
        p.put(prefix + "s3.path-style-access", "true");
        p.put(prefix + "s3.access-key-id", ACCESS_KEY);
        p.put(prefix + "s3.secret-access-key", SECRET_KEY);
        p.put(prefix + "client.region", REGION);
        return p;
    }

    private S3ProxyServer(Path dir, int port, Testbed testbed) {
        super(Duration.ofSeconds(10));
        this.dir = dir;
        this.port = port;
        this.testbed = testbed;
    }

    /** Starts a server on a free port with {@code buckets} under {@code dir}/data. */
    public static S3ProxyServer start(Testbed testbed, Path dir, List<String> buckets) {
        S3ProxyServer server = new S3ProxyServer(dir, Ports.free(), testbed);
        try {
            for (String bucket : buckets) {
                Files.createDirectories(dir.resolve("data").resolve(bucket));
            }
            Files.writeString(
                    dir.resolve("s3proxy.properties"),
                    String.join(
                            "\n",
                            "s3proxy.endpoint=" + server.endpoint(),
                            "s3proxy.authorization=aws-v2-or-v4",
                            "s3proxy.identity=" + ACCESS_KEY,
                            "s3proxy.credential=" + SECRET_KEY,
                            "jclouds.provider=filesystem",
                            "jclouds.filesystem.basedir=" + dir.resolve("data").toAbsolutePath(),
                            ""));
            // Without a configuration logback logs every request at DEBUG, which slows the
            // server down more than the requests themselves.
            Files.writeString(
                    dir.resolve("logback.xml"),
                    String.join(
                            "\n",
                            "<configuration>",
                            "  <appender name=\"out\" class=\"ch.qos.logback.core.ConsoleAppender\">",
                            "    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} -"
                                    + " %msg%n</pattern></encoder>",
                            "  </appender>",
                            "  <logger name=\"org.gaul.s3proxy.Main\" level=\"INFO\"/>",
                            "  <root level=\"WARN\"><appender-ref ref=\"out\"/></root>",
                            "</configuration>",
                            ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.start();
        return server;
    }

    /** Starts the process (again), on the same port and data. */
    @Override
    public synchronized void start() {
        ChildProcess process =
                running(
                        ChildProcess.start(
                                "s3proxy",
                                ChildProcess.java(
                                        testbed.classpath("s3proxy"),
                                        List.of(
                                                "-Xmx256m",
                                                "-Dlogback.configurationFile="
                                                        + dir.resolve("logback.xml")
                                                                .toAbsolutePath()),
                                        "org.gaul.s3proxy.Main",
                                        List.of(
                                                "--properties",
                                                dir.resolve("s3proxy.properties").toString())),
                                Map.of(),
                                dir,
                                dir.resolve("s3proxy.log")));
        process.awaitReady(
                "listening on " + port, Duration.ofSeconds(60), () -> Ports.answers(port));
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }
}
