package io.slidestream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.HeadCard;
import io.slidestream.inference.ModelCard;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.slide.SlideReader;
import io.slidestream.testing.TestSlides;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds the job's graph as {@link SlideStreamJob#run} does, with the production sinks (Milvus,
 * Iceberg on a local JDBC catalog, Kafka; nothing is contacted but the catalog): every type in the
 * graph, SlideStream's and the sinks' internals alike, has a serializer without Kryo (the job
 * switches generic types off), and every operator has a stable uid.
 */
class SlideStreamJobTest {

    @TempDir Path dir;

    private SlideStreamConfig config() {
        return SlideStreamConfig.from(config(Map.of()));
    }

    private Configuration config(Map<String, String> extra) {
        Path models = TestSlides.gpfmTiny();
        Configuration conf =
                Configuration.fromMap(
                        Map.of(
                                "kafka.bootstrap-servers", "127.0.0.1:9092",
                                "inference.model-path", models.resolve("gpfm-tiny.onnx").toString(),
                                "inference.tile-head-path",
                                        models.resolve("tissue-head-tiny.onnx").toString(),
                                "inference.slide-head-path",
                                        models.resolve("abmil-tiny.onnx").toString(),
                                "iceberg.catalog-type", "JDBC",
                                "iceberg.uri", "jdbc:sqlite:" + dir.resolve("catalog.db"),
                                "iceberg.warehouse", dir.resolve("warehouse").toUri().toString()));
        extra.forEach(conf::setString);
        return conf;
    }

    @Test
    void readsHowSlidesAreReadAndRefusesAnUnknownReader() {
        assertThat(config().slideReader()).isEqualTo(SlideReader.AUTO);
        assertThat(config().jpegHalfScale()).isFalse();
        SlideStreamConfig openslide =
                SlideStreamConfig.from(
                        config(
                                Map.of(
                                        "slides.reader", "openslide",
                                        "slides.jpeg-half-scale", "true")));
        assertThat(openslide.slideReader()).isEqualTo(SlideReader.OPENSLIDE);
        assertThat(openslide.jpegHalfScale()).isTrue();
        assertThatThrownBy(() -> SlideStreamConfig.from(config(Map.of("slides.reader", "fast"))))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("slides.reader is 'fast'; use 'auto'");
    }

    @Test
    void wiresThePipelineWithoutKryoAndWithAUidOnEveryOperator() {
        SlideStreamConfig config = config();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SlideStreamJob.configure(env, config);
        assertThat(env.getConfig().getSerializerConfig().hasGenericTypesDisabled()).isTrue();

        SlideStreamJob.define(
                env, config, SlideStreamJob.kafkaEvents(env, config), new StoreSinks(config));
        // Building the stream graph creates every serializer: it fails on any Kryo fallback.
        StreamGraph graph = env.getStreamGraph();

        assertThat(graph.getStreamNodes())
                .hasSizeGreaterThan(8)
                .allSatisfy(
                        node ->
                                assertThat(node.getTransformationUID())
                                        .as("uid of %s", describe(node))
                                        .isNotBlank());
    }

    @Test
    void refusesASlideHeadTrainedOnAnotherModel() throws Exception {
        Path models = TestSlides.gpfmTiny();
        Path headDir = Files.createDirectories(dir.resolve("head"));
        Path head = Files.copy(models.resolve("abmil-tiny.onnx"), headDir.resolve("head.onnx"));
        String modelId = ModelCard.idOf(models.resolve("gpfm-tiny.onnx"));
        for (String trainedOn : List.of("gpfm-other-0123456789ab", modelId)) {
            HeadCard card =
                    new HeadCard(
                            "tumour-" + ModelCard.sha256(head).substring(0, 12),
                            "tumour",
                            List.of("benign", "tumour"),
                            trainedOn,
                            256,
                            8,
                            7,
                            null,
                            null);
            Files.writeString(headDir.resolve("head.json"), card.toJson().toString());
            SlideStreamConfig config =
                    SlideStreamConfig.from(
                            config(Map.of("inference.slide-head-path", head.toString())));
            if (trainedOn.equals(modelId)) {
                assertThat(SlideStreamJob.slideHead(config.inference())).isNotNull();
            } else {
                assertThatThrownBy(() -> SlideStreamJob.slideHead(config.inference()))
                        .isInstanceOf(SlideStreamException.class)
                        .hasMessageContaining("trained on embeddings of model gpfm-other")
                        .hasMessageContaining("heads train --model-id " + modelId);
            }
        }
    }

    @Test
    void wiresTheBackfillWithoutKryoWithoutKafkaAndWithAUidOnEveryOperator() throws Exception {
        SlideStreamConfig config =
                SlideStreamConfig.from(config(Map.of("aggregate.live-heads", "false")));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SlideStreamJob.configure(env, config);
        SlideStreamJob.define(
                env,
                config,
                BackfillJob.events(
                        env,
                        List.of(
                                SlideScanned.newBuilder()
                                        .setSlideId("s")
                                        .setUri("/slides/s.svs")
                                        .setScannedAt(Instant.EPOCH)
                                        .setScannerId("backfill")
                                        .build())),
                StoreSinks.storesOnly(config));
        StreamGraph graph = env.getStreamGraph();
        assertThat(graph.getStreamNodes())
                .allSatisfy(
                        node ->
                                assertThat(node.getTransformationUID())
                                        .as("uid of %s", describe(node))
                                        .isNotBlank())
                .noneSatisfy(
                        node -> assertThat(node.getOperatorName()).containsIgnoringCase("kafka"));
    }

    @Test
    void leavesTheRestartStrategyAndStateBackendToTheClusterUnlessAsked() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SlideStreamJob.configure(env, config());
        assertThat(env.getConfiguration().getOptional(RestartStrategyOptions.RESTART_STRATEGY))
                .isEmpty();
        assertThat(env.getConfiguration().getOptional(StateBackendOptions.STATE_BACKEND)).isEmpty();

        StreamExecutionEnvironment local = StreamExecutionEnvironment.getExecutionEnvironment();
        Configuration asked = config(Map.of("job.restart-strategy", "EXPONENTIAL_DELAY"));
        SlideStreamJob.configure(local, SlideStreamConfig.from(asked));
        assertThat(local.getConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY))
                .isEqualTo("exponential-delay");
        assertThat(
                        local.getConfiguration()
                                .get(
                                        RestartStrategyOptions
                                                .RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS))
                .isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void checkpointsTimeOutAfterTheMilvusRetryWindowAndWithinTheKafkaTransactionTimeout() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SlideStreamJob.configure(env, config());
        assertThat(env.getCheckpointConfig().getCheckpointTimeout())
                .isEqualTo(Duration.ofMinutes(6).toMillis());

        // 10 s interval + 9 min checkpoints + 3 min restart > the 10 min transaction timeout.
        assertThatThrownBy(
                        () ->
                                SlideStreamConfig.from(
                                        config(Map.of("job.checkpoint-timeout", "9 min"))))
                .hasMessageContaining("kafka.transaction-timeout = 'PT10M' is invalid")
                .hasMessageContaining("Raise kafka.transaction-timeout");
        assertThat(
                        SlideStreamConfig.from(
                                        config(
                                                Map.of(
                                                        "job.checkpoint-timeout", "9 min",
                                                        "kafka.transaction-timeout", "15 min")))
                                .checkpointTimeout())
                .isEqualTo(Duration.ofMinutes(9));
        // A checkpoint must outlast the Milvus sink's retries.
        assertThatThrownBy(
                        () ->
                                SlideStreamConfig.from(
                                        config(Map.of("milvus.retry.max-wait", "6 min"))))
                .hasMessageContaining("job.checkpoint-timeout = 'PT6M' is invalid")
                .hasMessageContaining("milvus.retry.max-wait");
    }

    @Test
    void refusesAClusterWithoutADurableCheckpointDirectory() {
        // Any environment that is not a local one stands for a cluster's context environment.
        StreamExecutionEnvironment cluster = new StreamExecutionEnvironment(new Configuration());
        SlideStreamJob.configure(cluster, config());
        assertThatThrownBy(() -> SlideStreamJob.requireDurableCheckpoints(cluster))
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("without a durable checkpoint directory")
                .hasMessageContaining("execution.checkpointing.dir")
                .hasMessageContaining("job.checkpoint-dir");

        Configuration withDir = new Configuration();
        withDir.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://flink/checkpoints");
        SlideStreamJob.requireDurableCheckpoints(new StreamExecutionEnvironment(withDir));

        StreamExecutionEnvironment fromJob = new StreamExecutionEnvironment(new Configuration());
        SlideStreamJob.configure(
                fromJob,
                SlideStreamConfig.from(config(Map.of("job.checkpoint-dir", "file:///shared/chk"))));
        SlideStreamJob.requireDurableCheckpoints(fromJob);

        SlideStreamJob.requireDurableCheckpoints(
                StreamExecutionEnvironment.createLocalEnvironment(1));
    }

    private static String describe(StreamNode node) {
        return node.getOperatorName();
    }
}
