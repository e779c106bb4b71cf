package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.local.cluster.Testbed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the deployable job jar ({@code jobs/target/slidestream-job.jar}) must and must not carry. It
 * holds the job and exactly what it needs at run time on a Flink cluster: the Kafka connector and
 * client, the Iceberg Flink sink with the AWS bundle (S3FileIO) and Hadoop's client classes, the
 * Milvus SDK. Flink itself and what a Flink distribution provides are left out, and so are the
 * command line, the embedded local stack, the Kafka broker, Scala, RocksDB, and the libraries that
 * load native code (ONNX Runtime, JNA, the SQLite JDBC driver, zstd-jni), whose native libraries
 * one JVM can load through one class loader only and which pin the class loader that loaded them:
 * they belong in the cluster's {@code lib/} (loaded parent-first, see {@code
 * deploy/conf/flink-config.yaml}), as {@code jobs/target/cluster-lib}.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class JobJarContentsITCase {
    /** 139 MiB when this bound was set; the jar before the include list was 313 MB. */
    static final long MAX_BYTES = 150L << 20;

    @Test
    void carriesWhatTheJobNeedsOnAClusterAndNothingElse() throws Exception {
        Path jar = Testbed.locate().jobJar();
        Set<String> entries;
        try (JarFile file = new JarFile(jar.toFile())) {
            entries =
                    file.stream()
                            .map(e -> e.getName())
                            .collect(Collectors.toCollection(TreeSet::new));
        }
        List<String> required =
                List.of(
                        "io/slidestream/job/SlideStreamJob.class",
                        "io/slidestream/inference/TileEmbedder.class",
                        "io/slidestream/runtime/JobClassLoaderCleanup.class",
                        "org/apache/flink/connector/kafka/sink/KafkaSink.class",
                        "org/apache/kafka/clients/producer/KafkaProducer.class",
                        "org/apache/iceberg/flink/sink/IcebergSink.class",
                        "org/apache/iceberg/rest/RESTCatalog.class",
                        "org/apache/iceberg/jdbc/JdbcCatalog.class",
                        "org/apache/iceberg/aws/s3/S3FileIO.class",
                        "org/apache/hadoop/conf/Configuration.class",
                        "io/milvus/v2/client/MilvusClientV2.class");
        assertThat(entries).as("entries of %s", jar).containsAll(required);

        List<String> forbiddenPrefixes =
                List.of(
                        "org/apache/flink/streaming/api/",
                        "org/apache/flink/runtime/",
                        "org/apache/flink/api/common/",
                        "org/apache/flink/state/rocksdb/",
                        "org/rocksdb/",
                        "kafka/server/",
                        "scala/",
                        "io/slidestream/cli/",
                        "io/slidestream/local/",
                        "picocli/",
                        "ai/onnxruntime/",
                        "com/sun/jna/",
                        "org/sqlite/",
                        "com/github/luben/zstd/",
                        "org/junit/");
        for (String prefix : forbiddenPrefixes) {
            assertThat(entries.stream().filter(e -> e.startsWith(prefix)).limit(3).toList())
                    .as("entries under %s in %s", prefix, jar)
                    .isEmpty();
        }
        assertThat(
                        entries.stream()
                                .filter(e -> e.endsWith(".dll") || e.endsWith(".dylib"))
                                .limit(3)
                                .toList())
                .as("Windows and macOS native libraries")
                .isEmpty();

        long size = Files.size(jar);
        System.out.printf(
                "JobJarContentsITCase: %s is %.1f MiB, %d entries%n",
                jar.getFileName(), size / 1048576.0, entries.size());
        assertThat(size).as("size of %s", jar).isLessThan(MAX_BYTES);
    }

    @Test
    void clusterLibHoldsTheLibrariesWithNativeCode() throws Exception {
        Path lib = Testbed.locate().home().resolve("jobs/target/cluster-lib");
        try (var files = Files.list(lib)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList())
                    .anyMatch(f -> f.startsWith("onnxruntime"))
                    .anyMatch(f -> f.startsWith("jna-"))
                    .anyMatch(f -> f.startsWith("sqlite-jdbc-"))
                    .anyMatch(f -> f.startsWith("zstd-jni-"))
                    .hasSize(4);
        }
    }
}
