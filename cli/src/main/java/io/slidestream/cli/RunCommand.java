package io.slidestream.cli;

import io.slidestream.config.ConfigKeys;
import io.slidestream.config.ConfigLoader;
import io.slidestream.config.JobOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.schemas.ErrorCode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream run [--config FILE] [-D key=value ...]}: runs the SlideStream job on a local
 * Flink MiniCluster against the external Kafka, Milvus and Iceberg catalog that the configuration
 * names - the same job and keys a Flink cluster runs with {@link SlideStreamJob#main}.
 *
 * <p>Before anything starts: the configuration is read and validated ({@link ConfigKeys}: no
 * misspelt key; {@link SlideStreamConfig}: a bad or missing value fails naming its key), the model
 * file must exist, and Kafka, Milvus and the Iceberg catalog must answer within {@code
 * --check-timeout} ({@link StoreChecks}: {@code STORE_UNAVAILABLE} naming the address and the key).
 * Then the job runs until it fails or the process is stopped; checkpoints and the exactly-once
 * sinks make a restart resume where the last checkpoint left off.
 */
@Command(
        name = "run",
        customSynopsis = {
            "slidestream run [--config FILE] [-D key=value]... [--check-only]",
            "                       [--check-timeout DURATION]"
        },
        mixinStandardHelpOptions = true,
        description =
                "Run the SlideStream job on a local Flink MiniCluster against external Kafka,"
                        + " Milvus and an Iceberg catalog (REST, JDBC or Hadoop) named by the"
                        + " configuration keys (kafka.*, milvus.*, iceberg.*, inference.*, ...).")
final class RunCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "YAML configuration (flat 'a.b: v' keys or nested maps).")
    Path config;

    @Option(
            names = "-D",
            paramLabel = "key=value",
            description = "Sets or overrides one configuration key (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(
            names = "--check-timeout",
            paramLabel = "DURATION",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description =
                    "How long each store may take to answer the start-up check (default:"
                            + " ${DEFAULT-VALUE}).")
    Duration checkTimeout;

    @Option(
            names = "--check-only",
            description = "Validate the configuration and check the stores, then exit.")
    boolean checkOnly;

    @Override
    public Integer call() throws Exception {
        Configuration conf = ConfigLoader.load(config, ConfigLoader.parseOverrides(overrides));
        ConfigKeys.requireKnown(conf);
        if (!conf.contains(JobOptions.RESTART_STRATEGY)) {
            // A local run has no cluster configuration to defer to.
            conf.set(JobOptions.RESTART_STRATEGY, JobOptions.RestartStrategy.EXPONENTIAL_DELAY);
        }
        SlideStreamConfig job = SlideStreamConfig.from(conf);
        Path model = job.inference().modelPath();
        if (!Files.isRegularFile(model)) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    InferenceOptions.MODEL_PATH.key()
                            + " = "
                            + model
                            + " is not a file: export the model (tools/export_onnx.py) or fix the"
                            + " key");
        }
        StoreChecks.kafka(job.kafka(), checkTimeout);
        StoreChecks.milvus(job.milvus(), checkTimeout);
        StoreChecks.iceberg(job.iceberg());
        PrintWriter err = spec.commandLine().getErr();
        err.printf(
                "Kafka %s (topic %s), Milvus %s, Iceberg %s catalog: all answer%n",
                job.kafka().bootstrapServers(),
                job.kafka().scannedTopic(),
                job.milvus().uri(),
                job.iceberg().catalogType().name().toLowerCase(Locale.ROOT));
        err.flush();
        if (checkOnly) {
            return 0;
        }
        SlideStreamJob.localClusterSettings(conf);
        err.println("Starting the SlideStream job on a local MiniCluster (Ctrl-C to stop)");
        err.flush();
        SlideStreamJob.run(StreamExecutionEnvironment.getExecutionEnvironment(conf), job);
        return 0;
    }
}
