package io.slidestream.local.cluster;

import io.slidestream.aggregate.AggregateOptions;
import io.slidestream.config.JobOptions;
import io.slidestream.config.KafkaOptions;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.MilvusLite;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergOptions;
import io.slidestream.sink.MilvusOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * SlideStream's production topology on one machine, every part its own process, from Maven Central
 * and npm only (no Docker here): an S3-compatible object store (S3Proxy) holding the Iceberg
 * warehouse and Flink's checkpoints and savepoints, Iceberg's REST catalog server, a Kafka broker,
 * Milvus Lite, and a Flink standalone session cluster (one JobManager, TaskManagers) configured
 * from the shipped {@code deploy/conf/flink-config.yaml}. {@link #writeJobConfig} writes the job's
 * configuration file as a user would, pointing at these servers. Closing stops everything.
 */
public final class ClusterStack implements AutoCloseable {
    public static final String SCANNED_TOPIC = EmbeddedStack.SCANNED_TOPIC;
    public static final String RESULTS_TOPIC = EmbeddedStack.RESULTS_TOPIC;
    public static final String DEAD_LETTER_TOPIC = EmbeddedStack.DEAD_LETTER_TOPIC;
    public static final String WAREHOUSE_BUCKET = "warehouse";
    public static final String FLINK_BUCKET = "flink";

    private final Path dir;
    private final Testbed testbed;
    private final List<AutoCloseable> started = new ArrayList<>();
    private S3ProxyServer s3;
    private IcebergRestServer catalog;
    private KafkaBrokerProcess kafka;
    private MilvusLite milvus;
    private FlinkStandaloneCluster flink;

    private ClusterStack(Path dir, Testbed testbed) {
        this.dir = dir;
        this.testbed = testbed;
    }

    /** Settings of the local cluster. */
    public static final class Options {
        /** TaskManagers to start. */
        public int taskManagers = 2;

        /** Slots per TaskManager. */
        public int slotsPerTaskManager = 2;

        /**
         * Process size of each TaskManager: 512 MiB of it is metaspace
         * (deploy/conf/flink-config.yaml), the rest leaves the task heap at 320 MiB.
         */
        public String taskManagerMemory = "1856m";

        /** Flink settings on top of deploy/conf/flink-config.yaml. */
        public Map<String, String> flinkSettings = Map.of();
    }

    /** Starts every server under {@code dir}. */
    public static ClusterStack start(Path dir, Options options) {
        S3ProxyServer.configureClientsInThisJvm();
        ClusterStack stack = new ClusterStack(dir.toAbsolutePath(), Testbed.locate());
        try {
            stack.startAll(options);
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startAll(Options options) {
        s3 =
                track(
                        S3ProxyServer.start(
                                testbed,
                                dir.resolve("s3"),
                                List.of(WAREHOUSE_BUCKET, FLINK_BUCKET)));
        catalog =
                track(
                        IcebergRestServer.start(
                                testbed,
                                dir.resolve("iceberg-rest"),
                                "s3://" + WAREHOUSE_BUCKET + "/",
                                s3));
        kafka = track(KafkaBrokerProcess.start(testbed, dir.resolve("kafka")));
        kafka.createTopics(2, SCANNED_TOPIC);
        kafka.createTopics(1, RESULTS_TOPIC, DEAD_LETTER_TOPIC, EmbeddedStack.HEADS_TOPIC);
        milvus = track(MilvusLite.start(dir.resolve("milvus").resolve("milvus.db")));
        Map<String, String> flinkConf = new LinkedHashMap<>(shippedFlinkConfig(testbed.home()));
        flinkConf.put("s3.endpoint", s3.endpoint());
        flinkConf.put("s3.access-key", S3ProxyServer.ACCESS_KEY);
        flinkConf.put("s3.secret-key", S3ProxyServer.SECRET_KEY);
        flinkConf.put("execution.checkpointing.dir", "s3://" + FLINK_BUCKET + "/checkpoints");
        flinkConf.put(
                "execution.checkpointing.savepoint-dir", "s3://" + FLINK_BUCKET + "/savepoints");
        flinkConf.put(
                "taskmanager.numberOfTaskSlots", Integer.toString(options.slotsPerTaskManager));
        flinkConf.put("parallelism.default", Integer.toString(options.slotsPerTaskManager));
        flinkConf.put("jobmanager.memory.process.size", "1024m");
        flinkConf.put("taskmanager.memory.process.size", options.taskManagerMemory);
        flinkConf.putAll(options.flinkSettings);
        flink =
                track(
                        FlinkStandaloneCluster.start(
                                testbed,
                                dir.resolve("flink"),
                                flinkConf,
                                S3ProxyServer.CLIENT_ENVIRONMENT,
                                options.taskManagers));
    }

    /** The shipped Flink cluster settings, {@code deploy/conf/flink-config.yaml}, as flat keys. */
    public static Map<String, String> shippedFlinkConfig(Path home) {
        Path file = home.resolve("deploy/conf/flink-config.yaml");
        try {
            Object loaded =
                    new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
            Map<String, String> out = new LinkedHashMap<>();
            if (loaded instanceof Map<?, ?> map) {
                map.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * Writes the job's configuration file: the stores of this stack plus {@code settings} (model,
     * slides, tuning), as {@code bin/slidestream run --config} and {@code SlideStreamJob --config}
     * read it.
     */
    public Path writeJobConfig(String name, Map<String, String> settings) {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put(KafkaOptions.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers());
        conf.put(KafkaOptions.TOPIC_SCANNED.key(), SCANNED_TOPIC);
        conf.put(KafkaOptions.TOPIC_RESULTS.key(), RESULTS_TOPIC);
        conf.put(KafkaOptions.TOPIC_DEAD_LETTER.key(), DEAD_LETTER_TOPIC);
        conf.put(MilvusOptions.URI.key(), milvus.uri());
        conf.put(IcebergOptions.CATALOG_TYPE.key(), "rest");
        conf.put(IcebergOptions.URI.key(), catalog.uri());
        conf.put(IcebergOptions.WAREHOUSE.key(), "s3://" + WAREHOUSE_BUCKET + "/");
        conf.put(IcebergOptions.NAMESPACE.key(), "slidestream");
        conf.putAll(icebergS3Properties());
        conf.putAll(settings);
        Path file = dir.resolve("jobs").resolve(name + ".yaml");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, FlinkStandaloneCluster.yaml(conf));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * The job settings of the fault runs ({@code ClusterChaosITCase}, {@code bench chaos}) on two
     * cores: one reader and one ONNX Runtime thread per slot, 2 s checkpoints, and a Milvus retry
     * window (10 s) shorter than the Milvus outage they inject, so that the sink gives up and the
     * job fails over.
     */
    public static Map<String, String> faultRunJobSettings(Path model, Path inbox) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put(InferenceOptions.MODEL_PATH.key(), model.toAbsolutePath().toString());
        settings.put(InferenceOptions.READER_THREADS.key(), "1");
        settings.put(InferenceOptions.INTRA_OP_THREADS.key(), "1");
        settings.put(InferenceOptions.BATCH_SIZE.key(), "16");
        settings.put(JobOptions.CHECKPOINT_INTERVAL.key(), "2 s");
        settings.put(JobOptions.PARALLELISM.key(), "2");
        settings.put(JobOptions.ALLOWED_ROOTS.key(), inbox.toAbsolutePath().toString());
        settings.put(AggregateOptions.SLIDE_TIMEOUT.key(), "15 min");
        settings.put(MilvusOptions.FLUSH_INTERVAL.key(), "1 s");
        settings.put(MilvusOptions.RETRY_MAX_WAIT.key(), "10 s");
        return settings;
    }

    /** The catalog properties with which Iceberg's S3FileIO reaches this stack's object store. */
    public Map<String, String> icebergS3Properties() {
        return s3.icebergCatalogProperties();
    }

    /** A read_committed reader of {@code slides.results}, as an independent client sees it. */
    /**
     * Whether consumer group {@code groupId} (the job's {@code kafka.group-id}) has committed
     * offsets at the end of every partition of {@code slides.scanned}: every event announced so far
     * is behind a completed checkpoint of the job, so a job started afresh from the committed
     * offsets reads none of them again. (The Kafka source commits offsets after a checkpoint
     * completes, asynchronously.)
     */
    public boolean scannedOffsetsCommitted(String groupId) {
        Map<String, Object> props = Map.of("bootstrap.servers", kafka.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(groupId)
                            .partitionsToOffsetAndMetadata()
                            .get(30, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
            admin.describeTopics(List.of(SCANNED_TOPIC))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get(SCANNED_TOPIC)
                    .partitions()
                    .forEach(
                            p ->
                                    latest.put(
                                            new TopicPartition(SCANNED_TOPIC, p.partition()),
                                            OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            for (var end : ends.entrySet()) {
                OffsetAndMetadata at = committed.get(end.getKey());
                long endOffset = end.getValue().offset();
                if (endOffset > 0 && (at == null || at.offset() < endOffset)) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the offsets of " + groupId, e);
        }
    }

    public CommittedTopic<SlideResult> committedResults() {
        return new CommittedTopic<>(
                kafka.bootstrapServers(), RESULTS_TOPIC, AvroCodec.SLIDE_RESULT);
    }

    /** A read_committed reader of {@code slides.dead-letter}. */
    public CommittedTopic<SlideFailed> committedDeadLetters() {
        return new CommittedTopic<>(
                kafka.bootstrapServers(), DEAD_LETTER_TOPIC, AvroCodec.SLIDE_FAILED);
    }

    public S3ProxyServer objectStore() {
        return s3;
    }

    public IcebergRestServer catalog() {
        return catalog;
    }

    public KafkaBrokerProcess kafka() {
        return kafka;
    }

    public MilvusLite milvus() {
        return milvus;
    }

    /** Stops Milvus Lite and starts it again later with {@link #startMilvus} (same port, data). */
    public synchronized void stopMilvus() {
        milvus.close();
    }

    public synchronized void startMilvus() {
        started.remove(milvus);
        milvus = track(MilvusLite.start(milvus.dataFile(), milvus.port()));
    }

    public FlinkStandaloneCluster flink() {
        return flink;
    }

    public Testbed testbed() {
        return testbed;
    }

    public Path dir() {
        return dir;
    }

    private <T extends AutoCloseable> T track(T resource) {
        started.add(resource);
        return resource;
    }

    /** Stops everything, Flink first. */
    @Override
    public void close() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                org.slf4j.LoggerFactory.getLogger(ClusterStack.class)
                        .warn("Stopping {} failed: {}", started.get(i), e.toString());
            }
        }
        started.clear();
    }
}
