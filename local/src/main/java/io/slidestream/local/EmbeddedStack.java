package io.slidestream.local;

import io.slidestream.config.JobOptions;
import io.slidestream.config.KafkaOptions;
import io.slidestream.sink.IcebergOptions;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.source.SlideScannedSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;

/**
 * Everything the job needs, started on this machine: a KRaft Kafka broker in-process, Milvus Lite
 * (from npm) and an Iceberg JDBC catalog on a SQLite file, all under one work folder and on free
 * loopback ports. {@link #configuration()} gives the keys that point the job at them. Used by
 * {@code slidestream demo}, the pipeline benchmark and the end-to-end ITCases; closing stops the
 * broker and Milvus and keeps their data.
 */
public final class EmbeddedStack implements AutoCloseable {

    public static final String SCANNED_TOPIC = "slides.scanned";
    public static final String RESULTS_TOPIC = "slides.results";
    public static final String DEAD_LETTER_TOPIC = "slides.dead-letter";
    public static final String HEADS_TOPIC = "slides.heads";

    private final Path workDir;
    private final EmbeddedKafkaBroker kafka;
    private final MilvusLite milvus;

    private EmbeddedStack(Path workDir, EmbeddedKafkaBroker kafka, MilvusLite milvus) {
        this.workDir = workDir;
        this.kafka = kafka;
        this.milvus = milvus;
    }

    /**
     * Starts the broker (with {@code partitions} partitions for the input topic) and Milvus Lite
     * under {@code workDir}, creating the topics.
     */
    public static EmbeddedStack start(Path workDir, int partitions) {
        try {
            // SQLite creates the catalog file, not its folder.
            Files.createDirectories(workDir.resolve("iceberg"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work folder " + workDir, e);
        }
        EmbeddedKafkaBroker kafka =
                EmbeddedKafkaBroker.builder().dataDir(workDir.resolve("kafka")).start();
        MilvusLite milvus;
        try {
            milvus = MilvusLite.start(workDir.resolve("milvus.db"));
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
        kafka.createTopics(partitions, SCANNED_TOPIC);
        kafka.createTopics(1, RESULTS_TOPIC, DEAD_LETTER_TOPIC, HEADS_TOPIC);
        return new EmbeddedStack(workDir, kafka, milvus);
    }

    /** The job configuration keys that point at this stack. */
    public Configuration configuration() {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put(KafkaOptions.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers());
        keys.put(KafkaOptions.TOPIC_SCANNED.key(), SCANNED_TOPIC);
        keys.put(KafkaOptions.TOPIC_RESULTS.key(), RESULTS_TOPIC);
        keys.put(KafkaOptions.TOPIC_DEAD_LETTER.key(), DEAD_LETTER_TOPIC);
        keys.put(KafkaOptions.TOPIC_HEADS.key(), HEADS_TOPIC);
        keys.put(
                KafkaOptions.STARTING_OFFSETS.key(),
                SlideScannedSource.StartingOffsets.EARLIEST.name());
        keys.put(MilvusOptions.URI.key(), milvus.uri());
        // File checkpoints: the slide windows hold every embedding of the slides in flight (60 MB
        // for a resection at D = 1024), far beyond the 5 MB the JobManager's memory may hold.
        keys.put(
                JobOptions.CHECKPOINT_DIR.key(),
                workDir.toAbsolutePath().resolve("checkpoints").toUri().toString());
        keys.put(IcebergOptions.CATALOG_TYPE.key(), "JDBC");
        keys.put(
                IcebergOptions.URI.key(),
                "jdbc:sqlite:" + icebergDir().toAbsolutePath().resolve("catalog.db"));
        keys.put(
                IcebergOptions.WAREHOUSE.key(),
                icebergDir().toAbsolutePath().resolve("warehouse").toUri().toString());
        return Configuration.fromMap(keys);
    }

    public Path workDir() {
        return workDir;
    }

    public Path icebergDir() {
        return workDir.resolve("iceberg");
    }

    public EmbeddedKafkaBroker kafka() {
        return kafka;
    }

    public MilvusLite milvus() {
        return milvus;
    }

    @Override
    public void close() {
        try {
            milvus.close();
        } finally {
            kafka.close();
        }
    }
}
