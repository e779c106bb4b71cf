package io.slidestream.local;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.job.SlideStreamJob;
import io.slidestream.local.cluster.FlinkRestClient;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideResult;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code slidestream stop}: stops the job on a Flink cluster (REST) with a savepoint, after
 * draining it if asked, and sums up what happened: the job, the savepoint, how long it took, the
 * final state and, when the results topic is read, the results committed meanwhile.
 */
public final class JobStop {
    private final FlinkRestClient flink;
    private final String rest;

    public JobStop(String rest) {
        this.rest = rest;
        this.flink = new FlinkRestClient(rest);
    }

    /**
     * Stops {@code jobId} (null: the one running SlideStream job) with a savepoint into {@code
     * savepointDir} (null: the cluster's default); {@code results}, when not null, is read to the
     * end afterwards. Says on {@code err} what it does; returns the summary.
     */
    public Map<String, Object> stop(
            String jobId,
            String savepointDir,
            boolean drain,
            Duration timeout,
            CommittedTopic<SlideResult> results,
            PrintWriter err) {
        String job = jobId != null ? jobId : runningSlideStreamJob(flink);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("job_id", job);
        summary.put("drained", drain);
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
        return summary;
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

    /** The summary in words. */
    public static void print(Map<String, Object> summary, PrintWriter out) {
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
