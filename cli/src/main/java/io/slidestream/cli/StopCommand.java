package io.slidestream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.slidestream.config.KafkaConfig;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.local.CommittedTopic;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.serde.AvroCodec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
        FlinkRestClient flink = new FlinkRestClient(rest);
        String job = jobId != null ? jobId : runningSlideStreamJob(flink);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("job_id", job);
        summary.put("drained", drain);
        CommittedTopic<SlideResult> results = resultsFromNow();
        try {
            err.println(
                    (drain ? "Draining" : "Stopping")
                            + " job "
                            + job
                            + " at "
                            + rest
                            + (drain
                                    ? ": finishing the slides in flight, then a savepoint ..."
                                    : " with a savepoint ..."));
            err.flush();
            long start = System.nanoTime();
            String savepoint = flink.stopWithSavepoint(job, savepointDir, drain, timeout);
            summary.put("savepoint", savepoint);
            summary.put("seconds", Math.round((System.nanoTime() - start) / 1e8) / 10.0);
            summary.put("final_state", flink.jobState(job));
            if (results != null) {
                List<Map<String, Object>> committed = new ArrayList<>();
                for (SlideResult r : results.pollToEnd(Duration.ofMinutes(1))) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("slide_id", r.getSlideId());
                    row.put("scanned_at", r.getScannedAt().toString());
                    row.put("complete", r.getComplete());
                    row.put("tiles_received", r.getTilesReceived());
                    row.put("tile_count", r.getTileCount());
                    committed.add(row);
                }
                summary.put("results_committed", committed);
            }
        } finally {
            if (results != null) {
                results.close();
            }
        }
        print(summary, out);
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

    private static String runningSlideStreamJob(FlinkRestClient flink) {
        List<String> running = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (JsonNode j : flink.get("/jobs/overview").path("jobs")) {
            String state = j.path("state").asText();
            seen.add(j.path("jid").asText() + " " + j.path("name").asText() + " " + state);
            if (SlideStreamJob.JOB_NAME.equals(j.path("name").asText())
                    && !List.of("FINISHED", "CANCELED", "FAILED").contains(state)) {
                running.add(j.path("jid").asText());
            }
        }
        if (running.size() != 1) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    (running.isEmpty() ? "No" : running.size() + "")
                            + " running job named "
                            + SlideStreamJob.JOB_NAME
                            + " on the cluster (jobs: "
                            + (seen.isEmpty() ? "none" : String.join(", ", seen))
                            + "): name the one to stop with --job ID");
        }
        return running.get(0);
    }

    private static void print(Map<String, Object> summary, PrintWriter out) {
        out.printf(
                "Job %s %s; savepoint %s (%s s)%n",
                summary.get("job_id"),
                Boolean.TRUE.equals(summary.get("drained")) ? "drained and stopped" : "stopped",
                summary.get("savepoint"),
                summary.get("seconds"));
        if (Boolean.TRUE.equals(summary.get("drained"))) {
            out.println(
                    "Slides the planner had not started yet are in the savepoint: they start when"
                            + " the job resumes from it");
        }
        Object committed = summary.get("results_committed");
        if (committed instanceof List<?> rows) {
            long complete =
                    rows.stream()
                            .filter(r -> Boolean.TRUE.equals(((Map<?, ?>) r).get("complete")))
                            .count();
            out.printf(
                    "Results committed while stopping: %d (%d complete, %d partial)%n",
                    rows.size(), complete, rows.size() - complete);
        } else {
            out.println("(give the job's --config to list the results committed while stopping)");
        }
    }
}
