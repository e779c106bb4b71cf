package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.milvus.v2.client.MilvusClientV2;
import io.slidestream.aggregate.AggregateOptions;
import io.slidestream.config.JobOptions;
import io.slidestream.config.KafkaOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.job.StoreSinks;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.EmbeddedStack;
import io.slidestream.local.SlidePublisher;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.serde.AvroCodec;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusOptions;
import io.slidestream.slide.SlideOpener;
import io.slidestream.source.SlideScannedDeserializer;
import io.slidestream.synthetic.SyntheticSlideWriter;
import io.slidestream.synthetic.SyntheticSlideWriter.Style;
import io.slidestream.testing.TestSlides;
import io.slidestream.tiling.PlannedSlide;
import io.slidestream.tiling.TilingOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What the end-to-end ITCases share: the {@link EmbeddedStack} (KRaft broker, Milvus Lite, Iceberg
 * JDBC catalog) with the job configuration that points the real job at it and at the gpfm-tiny
 * model and heads, synthetic slides with a known tissue layout, raw Kafka records, a {@code
 * read_committed} reader of the output topics and a reader of Iceberg rows.
 */
final class EndToEndStack implements AutoCloseable {

    /** Labels of the 9 classes of the gpfm-tiny tile head (the NCT-CRC-HE classes). */
    static final List<String> TISSUE_CLASSES =
            List.of("ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM");

    static final Duration CHECKPOINT_INTERVAL = Duration.ofMillis(500);

    private final EmbeddedStack stack;
    private final Configuration configuration;

    private EndToEndStack(EmbeddedStack stack, Configuration configuration) {
        this.stack = stack;
        this.configuration = configuration;
    }

    /**
     * Starts the stack under {@code dir}; {@code name} keeps the job's consumer group and
     * transactional ids apart, {@code restartAttempts} bounds the fixed-delay restarts.
     */
    static EndToEndStack start(Path dir, String name, int restartAttempts) {
        EmbeddedStack stack = EmbeddedStack.start(dir.resolve("stack"), 2);
        Path models = TestSlides.gpfmTiny();
        Configuration conf = stack.configuration();
        conf.setString(
                InferenceOptions.MODEL_PATH.key(), models.resolve("gpfm-tiny.onnx").toString());
        conf.setString(
                InferenceOptions.TILE_HEAD_PATH.key(),
                models.resolve("tissue-head-tiny.onnx").toString());
        conf.setString(
                InferenceOptions.SLIDE_HEAD_PATH.key(),
                models.resolve("abmil-tiny.onnx").toString());
        conf.setString(InferenceOptions.BATCH_SIZE.key(), "8");
        conf.setString(AggregateOptions.TISSUE_CLASSES.key(), String.join(";", TISSUE_CLASSES));
        conf.setString(AggregateOptions.TOP_K.key(), "4");
        conf.setString(MilvusOptions.FLUSH_INTERVAL.key(), "200 ms");
        // The test slides have 8 to 30 tiles: small chunks make the planner emit each in several
        // steps, between which checkpoint barriers pass, as with a resection and the default.
        conf.setString(TilingOptions.EMIT_CHUNK.key(), "4");
        conf.setString(KafkaOptions.GROUP_ID.key(), name);
        conf.setString(KafkaOptions.TRANSACTIONAL_ID_PREFIX.key(), name);
        conf.setString(
                JobOptions.CHECKPOINT_INTERVAL.key(), CHECKPOINT_INTERVAL.toMillis() + " ms");
        conf.setString(JobOptions.PARALLELISM.key(), "2");
        conf.setString(JobOptions.RESTART_ATTEMPTS.key(), Integer.toString(restartAttempts));
        conf.setString(JobOptions.RESTART_DELAY.key(), "200 ms");
        return new EndToEndStack(stack, conf);
    }

    /**
     * The keys of {@link #config()} that start with one of {@code prefixes}, as {@code -D
     * key=value} arguments of a command.
     */
    List<String> keyArguments(String... prefixes) {
        List<String> args = new java.util.ArrayList<>();
        new java.util.TreeMap<>(configuration.toMap())
                .forEach(
                        (k, v) -> {
                            if (java.util.Arrays.stream(prefixes).anyMatch(k::startsWith)) {
                                args.add("-D");
                                args.add(k + "=" + v);
                            }
                        });
        return args;
    }

    /** The validated job configuration; creates the Iceberg tables as the job's main does. */
    SlideStreamConfig config() {
        return config(Map.of());
    }

    /** {@link #config()} with some keys set otherwise, for one job. */
    SlideStreamConfig config(Map<String, String> overrides) {
        Configuration conf = configuration.clone();
        overrides.forEach(conf::setString);
        SlideStreamConfig config = SlideStreamConfig.from(conf);
        IcebergCatalogs.ensureTables(config.iceberg());
        return config;
    }

    /**
     * Creates the Milvus collections for {@code dimension}-dimensional vectors before the job
     * starts, as an operator would; otherwise the sinks create them on their first flush, which
     * takes Milvus Lite seconds and holds up the first checkpoints.
     */
    static void createMilvusCollections(SlideStreamConfig config, int dimension) {
        MilvusConfig milvus = config.milvus();
        MilvusClientV2 client = MilvusCollectionAdmin.connect(milvus);
        try {
            MilvusCollectionAdmin.ensureCollection(
                    client, milvus, milvus.tilesCollection(), MilvusCollections.TILES, dimension);
            MilvusCollectionAdmin.ensureCollection(
                    client, milvus, milvus.slidesCollection(), MilvusCollections.SLIDES, dimension);
        } finally {
            client.close();
        }
    }

    /** The MiniCluster's environment, configured as the job configures it. */
    static StreamExecutionEnvironment environment(SlideStreamConfig config) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SlideStreamJob.configure(env, config);
        return env;
    }

    String bootstrapServers() {
        return stack.kafka().bootstrapServers();
    }

    /** Runs the job as {@code run} builds it, with the production sinks, on the MiniCluster. */
    static JobClient submit(SlideStreamConfig config, String name) throws Exception {
        StreamExecutionEnvironment env = environment(config);
        SlideStreamJob.define(
                env, config, SlideStreamJob.kafkaEvents(env, config), new StoreSinks(config));
        return env.executeAsync(name);
    }

    /** {@link #submit}, resuming from the savepoint (or retained checkpoint) {@code savepoint}. */
    static JobClient resume(SlideStreamConfig config, String name, String savepoint)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        SlideStreamJob.configure(env, config);
        SlideStreamJob.define(
                env, config, SlideStreamJob.kafkaEvents(env, config), new StoreSinks(config));
        return env.executeAsync(name);
    }

    /**
     * Runs the job on {@code files} (slide id to file, each with {@code tilesEach} tissue tiles)
     * until all are in the stores, then cancels it.
     */
    void embed(SlideStreamConfig config, String name, Map<String, Path> files, int tilesEach)
            throws Exception {
        JobClient running = submit(config, name);
        Map<String, Integer> planned = new java.util.TreeMap<>();
        try (SlidePublisher publisher = publisher(name)) {
            for (var e : files.entrySet()) {
                publisher.publish(
                        io.slidestream.schemas.avro.SlideScanned.newBuilder()
                                .setSlideId(e.getKey())
                                .setUri(e.getValue().toString())
                                .setScannedAt(java.time.Instant.now())
                                .setScannerId(name)
                                .build());
                planned.put(e.getKey(), tilesEach);
            }
            awaitWhileRunning(
                    running,
                    Duration.ofMinutes(4),
                    "all " + files.size() + " slides in the stores",
                    () -> StoreContents.reached(config, planned));
        } finally {
            cancel(running);
        }
    }

    /** A publisher to {@code slides.scanned} of this stack. */
    SlidePublisher publisher(String scannerId) {
        return SlidePublisher.builder()
                .bootstrapServers(bootstrapServers())
                .topic(EmbeddedStack.SCANNED_TOPIC)
                .scannerId(scannerId)
                .build();
    }

    /** The REST API of the test's MiniCluster. */
    static FlinkRestClient rest(MiniClusterExtension flink) {
        return new FlinkRestClient(restUrl(flink));
    }

    /** The address of the test's MiniCluster's REST API. */
    static String restUrl(MiniClusterExtension flink) {
        return "http://127.0.0.1:" + flink.getClientConfiguration().get(RestOptions.PORT);
    }

    /** A 2048 px slide with one tissue block of 6 x 5 tiles (30) of 256 px at 0.5 µm/px. */
    static SyntheticSlideWriter sixByFive(long seed) {
        return SyntheticSlideWriter.builder()
                .size(2048, 2048)
                .style(Style.GENERIC_TIFF)
                .seed(seed)
                .tissue(256, 256, 256L * 6, 256L * 5)
                .build();
    }

    /**
     * A 2048 px slide with two tissue blocks, 3 x 2 and 2 x 3 tiles of 256 px at 0.5 µm/px: 12
     * tissue tiles, its pixels from {@code seed}.
     */
    static SyntheticSlideWriter twoBlocks(long seed) {
        return SyntheticSlideWriter.builder()
                .size(2048, 2048)
                .style(Style.GENERIC_TIFF)
                .seed(seed)
                .tissue(256, 256, 768, 512)
                .tissue(1280, 1024, 512, 768)
                .build();
    }

    /**
     * Writes a synthetic slide and checks that the job's planner finds exactly the tiles the layout
     * says hold tissue (the tissue rectangles are aligned to the 256 px grid at 0.5 µm/px).
     */
    static Path writeSlide(SyntheticSlideWriter writer, Path file, long expectedTissueTiles)
            throws IOException {
        assertThat(writer.tissueTilesAtLevel0())
                .as("tissue tiles of the layout of %s", file.getFileName())
                .isEqualTo(expectedTissueTiles);
        SyntheticSlideWriter.Result result = writer.write(file);
        assertThat(result.tissueTilesAtLevel0()).isEqualTo(expectedTissueTiles);
        return file;
    }

    /** Tissue tiles the job will plan for {@code slide} under {@code config}. */
    static int plannedTiles(SlideStreamConfig config, Path slide) {
        return PlannedSlide.plan(
                        SlideOpener.unrestricted(),
                        slide.toString(),
                        config.tiling(),
                        OptionalDouble.empty())
                .plan()
                .tissueTileCount();
    }

    /**
     * Sends raw bytes to {@code slides.scanned}, as a broken producer would; returns the dead
     * letter's slide id the job derives from the record's position.
     */
    String publishRaw(String key, byte[] value) throws Exception {
        Properties p = new Properties();
        p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            RecordMetadata m =
                    producer.send(
                                    new ProducerRecord<>(
                                            EmbeddedStack.SCANNED_TOPIC,
                                            key.getBytes(StandardCharsets.UTF_8),
                                            value))
                            .get(30, TimeUnit.SECONDS);
            return SlideScannedDeserializer.recordId(
                    EmbeddedStack.SCANNED_TOPIC, m.partition(), m.offset());
        }
    }

    /** How often the waits of the ITCases look again. */
    static final Duration POLL = Duration.ofMillis(250);

    /** A {@code read_committed} consumer of one output topic, from its beginning. */
    <T extends SpecificRecord> CommittedTopic<T> committed(String topic, AvroCodec<T> codec) {
        return new CommittedTopic<>(bootstrapServers(), topic, codec);
    }

    /**
     * Polls {@code condition} until it holds or {@code timeout} passes; returns whether it held.
     */
    static boolean await(Duration timeout, BooleanSupplier condition) {
        try {
            Awaitility.await().atMost(timeout).pollInterval(POLL).until(condition::getAsBoolean);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /**
     * Waits until {@code condition} holds while {@code job} runs: fails at once when the job ends
     * on its own, and after {@code timeout} with {@code what}.
     */
    static void awaitWhileRunning(
            JobClient job, Duration timeout, String what, BooleanSupplier condition) {
        Awaitility.await(what)
                .atMost(timeout)
                .pollInterval(POLL)
                .failFast("the job ended", () -> assertRunning(job))
                .until(condition::getAsBoolean);
    }

    /** Fails fast when the job has died instead of waiting for the whole timeout. */
    static void assertRunning(JobClient job) throws Exception {
        JobStatus status = job.getJobStatus().get(10, TimeUnit.SECONDS);
        if (status.isGloballyTerminalState()) {
            // Surfaces the job's failure cause.
            job.getJobExecutionResult().get(10, TimeUnit.SECONDS);
            throw new AssertionError("the job ended on its own: " + status);
        }
    }

    /** Cancels the (unbounded) job and waits until it is gone. */
    static void cancel(JobClient job) throws Exception {
        JobStatus status = job.getJobStatus().get(10, TimeUnit.SECONDS);
        if (!status.isGloballyTerminalState()) {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
        Awaitility.await("the cancelled job gone")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(
                        () ->
                                job.getJobStatus()
                                        .get(10, TimeUnit.SECONDS)
                                        .isGloballyTerminalState());
    }

    @Override
    public void close() {
        stack.close();
    }

    /** Counts of rows per slide id among {@code rows}. */
    static Map<String, Long> countBySlide(List<Record> rows) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (Record r : rows) {
            counts.merge((String) r.getField("slide_id"), 1L, Long::sum);
        }
        return counts;
    }
}
