package io.slidestream.local.cluster;

import io.slidestream.local.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
     * The environment every client process of this store needs: AWS SDK v2 (2.30 and later) sends
     * trailing CRC checksums with chunked uploads by default, which S3Proxy rejects ("The provided
     * 'x-amz-content-sha256' header does not match"); these switch checksums to "when required".
     * The region is given and the EC2 metadata endpoint switched off, so no client waits on a probe
     * of it (about 40 s off EC2).
     */
    public static final Map<String, String> CLIENT_ENVIRONMENT =
            Map.of(
                    "AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED",
                    "AWS_RESPONSE_CHECKSUM_VALIDATION", "WHEN_REQUIRED",
                    "AWS_EC2_METADATA_DISABLED", "true",
                    "AWS_REGION", REGION);

    /**
     * The same settings for the AWS SDK inside this JVM, as system properties: {@link ClusterStack}
     * sets them, so that readers of the stack's tables here (tests, {@code bench chaos}) reach the
     * store too.
     */
    public static void configureClientsInThisJvm() {
        Map.of(
                        "aws.requestChecksumCalculation", "WHEN_REQUIRED",
                        "aws.responseChecksumValidation", "WHEN_REQUIRED",
                        "aws.disableEc2Metadata", "true")
                .forEach(
                        (key, value) -> {
                            if (System.getProperty(key) == null) {
                                System.setProperty(key, value);
                            }
                        });
    }

    private final Path dir;
    private final int port;
    private final Testbed testbed;

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
