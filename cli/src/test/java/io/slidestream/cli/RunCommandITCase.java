package io.slidestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.local.EmbeddedKafkaBroker;
import io.slidestream.local.MilvusLite;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run}'s start-up checks: configuration validated before anything starts, stores that do not
 * answer reported in seconds, and a configuration whose stores all answer passing ({@code
 * --check-only}, so no job is started).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class RunCommandITCase {

    @TempDir static Path dir;

    static EmbeddedKafkaBroker broker;
    static MilvusLite milvus;
    static Path model;

    @BeforeAll
    static void startStores() throws IOException {
        broker = EmbeddedKafkaBroker.start();
        milvus = MilvusLite.start(dir.resolve("milvus.db"));
        model = Files.write(dir.resolve("model.onnx"), new byte[] {1});
    }

    @AfterAll
    static void stopStores() {
        if (milvus != null) {
            milvus.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** A complete configuration for the embedded stores, with {@code extra} -D pairs after it. */
    static String[] run(String kafka, String milvusUri, String... extra) {
        List<String> args =
                new ArrayList<>(List.of("run", "--check-only", "--check-timeout", "2s"));
        if (kafka != null) {
            args.add("-Dkafka.bootstrap-servers=" + kafka);
        }
        args.add("-Dmilvus.uri=" + milvusUri);
        args.add("-Dinference.model-path=" + model);
        args.add("-Diceberg.catalog-type=jdbc");
        args.add("-Diceberg.uri=jdbc:sqlite:" + dir.resolve("catalog.db"));
        args.add("-Diceberg.warehouse=" + dir.resolve("warehouse").toUri());
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void passesItsChecksWhenEveryStoreAnswers() {
        CliRun run = CliRun.of(run(broker.bootstrapServers(), milvus.uri()));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("all answer");
    }

    @Test
    void refusesAMissingBootstrapServersKeyNamingIt() {
        CliRun run = CliRun.of(run(null, milvus.uri()));
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("INVALID_CONFIG: ").contains("kafka.bootstrap-servers");
    }

    @Test
    void refusesAnUnreadableValueNamingTheKey() {
        CliRun run =
                CliRun.of(run(broker.bootstrapServers(), milvus.uri(), "-Djob.parallelism=many"));
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err())
                .startsWith("INVALID_CONFIG: ")
                .contains("job.parallelism")
                .contains("many");
    }

    @Test
    void refusesAMisspeltKeyNamingIt() {
        CliRun run =
                CliRun.of(run(broker.bootstrapServers(), milvus.uri(), "-Dmilvus.url=http://x:1"));
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err())
                .startsWith(
                        "INVALID_CONFIG: configuration key 'milvus.url' is not a SlideStream"
                                + " option");
    }

    @Test
    void refusesAMissingConfigurationFile() {
        CliRun run = CliRun.of("run", "--config", dir.resolve("absent.yaml").toString());
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("INVALID_CONFIG: ").contains("absent.yaml");
    }

    @Test
    void reportsAnUnreachableKafkaWithinSeconds() throws IOException {
        String closed = "127.0.0.1:" + closedPort();
        long start = System.nanoTime();
        CliRun run = CliRun.of(run(closed, milvus.uri()));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err())
                .startsWith("STORE_UNAVAILABLE: Kafka is not reachable at " + closed)
                .contains("start it or fix kafka.bootstrap-servers");
        assertThat(took).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void reportsAnUnreachableMilvusWithinSeconds() throws IOException {
        String closed = "http://127.0.0.1:" + closedPort();
        long start = System.nanoTime();
        CliRun run = CliRun.of(run(broker.bootstrapServers(), closed));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err())
                .startsWith("STORE_UNAVAILABLE: Milvus is not reachable at " + closed)
                .contains("start it or fix milvus.uri");
        assertThat(took).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void refusesAModelPathThatIsNoFile() {
        CliRun run =
                CliRun.of(
                        run(
                                broker.bootstrapServers(),
                                milvus.uri(),
                                "-Dinference.model-path=" + dir.resolve("absent.onnx")));
        assertThat(run.exitCode()).isEqualTo(SlideStreamCli.EXIT_FAILURE);
        assertThat(run.err()).startsWith("MODEL_INVALID: inference.model-path");
    }

    /** A loopback port nothing listens on (bound once, then released). */
    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
