package io.slidestream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.slidestream.config.KafkaConfig;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.JobStop;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slidestream stop}: stops a SlideStream job on a Flink cluster (or the MiniCluster of a
 * {@code run}) through Flink's REST API, always with a savepoint. With {@code --drain} the job
 * first finishes the slides in flight - the planner hands on the rest of every slide it has
 * started, the embedder, the slide window and the sinks finish their input and commit - and slides
 * still waiting for admission stay in the savepoint, to start when the job resumes from it. Without
 * it the job stops at once and everything in flight is in the savepoint.
 *
 * <p>The summary says where the savepoint is and, given the job's configuration ({@code --config},
 * {@code -D}), every result the job committed to its results topic from the moment the stop began.
 */
@Command(
        name = "stop",
        mixinStandardHelpOptions = true,
        description =
                "Stop a SlideStream job on a Flink cluster with a savepoint; --drain finishes the"
                        + " slides in flight first.")
final class StopCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
            names = "--rest",
            paramLabel = "URL",
            defaultValue = "http://localhost:8081",
            description = "The Flink cluster's REST address (default: ${DEFAULT-VALUE}).")
    String rest;

    @Option(
            names = "--job",
            paramLabel = "ID",
            description =
                    "The job to stop (default: the one running job named "
                            + SlideStreamJob.JOB_NAME
                            + ").")
    String jobId;

    @Option(
            names = "--drain",
            description =
                    "Finish the slides in flight (and commit their results) before the savepoint;"
                            + " slides waiting for admission stay in it.")
    boolean drain;

    @Option(
            names = "--savepoint-dir",
            paramLabel = "DIR",
            description =
                    "Where the savepoint goes (default: the cluster's"
                            + " execution.checkpointing.savepoint-dir).")
    String savepointDir;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            defaultValue = "30m",
            converter = DurationConverter.class,
            description =
                    "How long the stop may take, a drain included (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Mixin JobConfigOptions config;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the summary here.")
    Path summaryJson;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JobStop stop = new JobStop(rest);
        Map<String, Object> summary;
        try (CommittedTopic<SlideResult> results = resultsFromNow()) {
            summary = stop.stop(jobId, savepointDir, drain, timeout, results, err);
        }
        JobStop.print(summary, out);
        if (summaryJson != null) {
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(summaryJson.toFile(), summary);
            out.println("Summary written to " + summaryJson);
        }
        out.flush();
        return 0;
    }

    /** A reader of the results topic from now on, when the job's configuration was given. */
    private CommittedTopic<SlideResult> resultsFromNow() throws Exception {
        if (!config.given()) {
            return null;
        }
        Configuration conf = config.load();
        KafkaConfig kafka = KafkaConfig.from(conf);
        return new CommittedTopic<>(
                        kafka.bootstrapServers(), kafka.resultsTopic(), AvroCodec.SLIDE_RESULT)
                .fromNow();
    }
}
