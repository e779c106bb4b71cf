package io.slidestream.cli;

import io.slidestream.config.ConfigKeys;
import io.slidestream.config.JobOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.local.RunState;
import io.slidestream.local.StoreChecks;
import io.slidestream.schemas.ErrorCode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/**
 * {@code slidestream run [--config FILE] [-D key=value ...]}: runs the SlideStream job on a local
 * Flink MiniCluster against the external Kafka, Milvus and Iceberg catalog that the configuration
 * names - the same job and keys a Flink cluster runs with {@link SlideStreamJob#main}.
 *
 * <p>Before anything starts: the configuration is read and validated ({@link ConfigKeys}: no
 * misspelt key; {@link SlideStreamConfig}: a bad or missing value fails naming its key), the model
 * file must exist, and Kafka, Milvus and the Iceberg catalog must answer within {@code
 * --check-timeout} ({@link StoreChecks}: {@code STORE_UNAVAILABLE} naming the address and the key).
 * Then the job runs until it fails or the process is stopped.
 *
 * <p><b>State across runs</b> ({@link RunState}): checkpoints go to {@code --state-dir} (unless
 * {@code job.checkpoint-dir} is set) and are kept when the job ends; Ctrl-C or SIGTERM stops the
 * job with a savepoint there. The next run resumes from the newest savepoint or checkpoint - the
 * slides in flight, the planner's waiting slides and the Kafka offsets with it - so a stop, a crash
 * or a reboot loses no slide; {@code --fresh} starts afresh.
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

    @Mixin JobConfigOptions config;

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
            names = "--state-dir",
            paramLabel = "DIR",
            defaultValue = "run-state",
            description =
                    "Where the job's checkpoints (unless job.checkpoint-dir says otherwise) and the"
                            + " savepoint of a stop go; a run resumes from the newest of them"
                            + " (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(
            names = "--fresh",
            description =
                    "Start afresh instead of resuming from the state folder (slides in flight when"
                            + " the last run stopped are then not finished).")
    boolean fresh;

    @Option(
            names = "--drain-on-stop",
            description =
                    "On Ctrl-C or SIGTERM, finish the slides in flight before the savepoint (as"
                            + " stop --drain does); slides waiting for admission stay in it.")
    boolean drainOnStop;

    @Option(
            names = "--check-only",
            description = "Validate the configuration and check the stores, then exit.")
    boolean checkOnly;

    @Override
    public Integer call() throws Exception {
        Configuration conf = config.load();
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
        RunState state = RunState.in(stateDir);
        state.configure(conf, fresh, err);
        // Read again: the job's checkpoint directory may now be the state folder's.
        job = SlideStreamConfig.from(conf);
        err.println(
                "Starting the SlideStream job on a local MiniCluster (Ctrl-C or SIGTERM stops it"
                        + " with a savepoint in "
                        + state.savepoints()
                        + "; the next run resumes from it)");
        err.flush();
        JobClient running =
                SlideStreamJob.start(StreamExecutionEnvironment.getExecutionEnvironment(conf), job);
        stopWithSavepointOnSignal(running, state, drainOnStop, err);
        running.getJobExecutionResult().get();
        return 0;
    }

    /**
     * The first Ctrl-C or SIGTERM stops the job with a savepoint - the slides in flight, the
     * planner's waiting slides and the Kafka offsets are all in it, and the next {@code run}
     * resumes from it - instead of letting JVM shutdown kill the job and lose them; with {@code
     * drain} the slides in flight are finished first. A second signal exits at once.
     */
    private static void stopWithSavepointOnSignal(
            JobClient job, RunState state, boolean drain, PrintWriter err) {
        AtomicBoolean stopping = new AtomicBoolean();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(
                    new Signal(name),
                    signal -> {
                        if (!stopping.compareAndSet(false, true)) {
                            System.exit(128 + signal.getNumber());
                        }
                        err.println(
                                (drain
                                                ? "Finishing the slides in flight, then stopping"
                                                : "Stopping")
                                        + " the job with a savepoint (signal again to stop at"
                                        + " once) ...");
                        err.flush();
                        try {
                            String path =
                                    job.stopWithSavepoint(
                                                    drain,
                                                    state.savepoints().toUri().toString(),
                                                    SavepointFormatType.CANONICAL)
                                            .get();
                            err.println(
                                    "Stopped with savepoint "
                                            + path
                                            + "; the next run resumes from it");
                        } catch (Exception e) {
                            err.println(
                                    "Could not take a savepoint ("
                                            + e
                                            + "); the next run resumes from the latest checkpoint in "
                                            + state.checkpoints());
                            System.exit(SlideStreamCli.EXIT_FAILURE);
                        }
                        err.flush();
                    });
        }
    }
}
