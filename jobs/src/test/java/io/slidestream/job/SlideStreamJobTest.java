package io.slidestream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.slide.SlideReader;
import io.slidestream.testing.TestSlides;
import java.nio.file.Path;
import java.time.Duration;
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
