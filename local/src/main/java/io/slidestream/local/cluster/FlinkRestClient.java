package io.slidestream.local.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The parts of Flink's REST API a user (or a CI pipeline) needs to run SlideStream on a session
 * cluster: upload the job jar and run it with program arguments ({@code POST /jars/upload}, {@code
 * POST /jars/{id}/run}), cancel, stop with a savepoint, and read job state, restarts, checkpoints
 * and TaskManager metrics.
 */
public final class FlinkRestClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public FlinkRestClient(String base) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /** Uploads {@code jar}; returns the id the cluster gave it. */
    public String uploadJar(Path jar) {
        String boundary = "----slidestream" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try {
            body.write(
                    ("--"
                                    + boundary
                                    + "\r\nContent-Disposition: form-data; name=\"jarfile\";"
                                    + " filename=\""
                                    + jar.getFileName()
                                    + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                            .getBytes(StandardCharsets.UTF_8));
            body.write(Files.readAllBytes(jar));
            body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode response =
                send(
                        HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                                .timeout(Duration.ofMinutes(5))
                                .build());
        String file = response.path("filename").asText();
        return Path.of(file).getFileName().toString();
    }

    /**
     * Runs uploaded jar {@code jarId} with {@code args}, restoring from {@code savepoint} when
     * given; returns the job id.
     */
    public String run(String jarId, List<String> args, String savepoint) {
        ObjectNode request = JSON.createObjectNode();
        var list = request.putArray("programArgsList");
        args.forEach(list::add);
        if (savepoint != null) {
            request.put("savepointPath", savepoint);
            request.put("allowNonRestoredState", false);
        }
        JsonNode response = post("/jars/" + jarId + "/run", request, Duration.ofMinutes(5));
        return response.path("jobid").asText();
    }

    /** Deletes an uploaded jar. */
    public void deleteJar(String jarId) {
        send(
                HttpRequest.newBuilder(URI.create(base + "/jars/" + jarId))
                        .DELETE()
                        .timeout(Duration.ofSeconds(30))
                        .build());
    }

    /** Cancels job {@code jobId} (no savepoint). */
    public void cancel(String jobId) {
        send(
                HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(30))
                        .build());
    }

    /**
     * Stops job {@code jobId} with a savepoint in {@code targetDirectory} (null: the cluster's
     * default) and returns the savepoint's location once it is written.
     */
    public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout) {
        return stopWithSavepoint(jobId, targetDirectory, false, timeout);
    }

    /**
     * Stops job {@code jobId} with a savepoint in {@code targetDirectory} (null: the cluster's
     * default), draining it first when {@code drain} (the sources end, every operator finishes its
     * input, the sinks commit), and returns the savepoint's location once it is written.
     */
    public String stopWithSavepoint(
            String jobId, String targetDirectory, boolean drain, Duration timeout) {
        ObjectNode request = JSON.createObjectNode();
        if (targetDirectory != null) {
            request.put("targetDirectory", targetDirectory);
        }
        request.put("drain", drain);
        String trigger =
                post("/jobs/" + jobId + "/stop", request, Duration.ofSeconds(30))
                        .path("request-id")
                        .asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode status = get("/jobs/" + jobId + "/savepoints/" + trigger);
            if ("COMPLETED".equals(status.path("status").path("id").asText())) {
                JsonNode operation = status.path("operation");
                if (operation.has("failure-cause")) {
                    throw new IllegalStateException(
                            "stop-with-savepoint of "
                                    + jobId
                                    + " failed: "
                                    + operation.path("failure-cause").path("stack-trace").asText());
                }
                return operation.path("location").asText();
            }
            ChildProcess.pause();
        }
        throw new IllegalStateException(
                "stop-with-savepoint of " + jobId + " took over " + timeout);
    }

    /** The job's state ({@code RUNNING}, {@code RESTARTING}, ...). */
    public String jobState(String jobId) {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /** Whether every vertex of the job has all its subtasks running. */
    public boolean allTasksRunning(String jobId) {
        JsonNode job = get("/jobs/" + jobId);
        if (!"RUNNING".equals(job.path("state").asText())) {
            return false;
        }
        for (JsonNode vertex : job.path("vertices")) {
            int parallelism = vertex.path("parallelism").asInt();
            if (vertex.path("tasks").path("RUNNING").asInt() != parallelism) {
                return false;
            }
        }
        return true;
    }

    /** How often the job has restarted (its {@code numRestarts} metric). */
    public long restarts(String jobId) {
        for (JsonNode metric : get("/jobs/" + jobId + "/metrics?get=numRestarts")) {
            return metric.path("value").asLong();
        }
        return 0;
    }

    /** Completed checkpoints of the job. */
    public long completedCheckpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
    }

    /**
     * Why a job is not checkpointing, in a few lines: its state, each vertex's task states, the
     * checkpoint counts, the last failed checkpoint's cause and, for each checkpoint in progress,
     * the vertices that have not acknowledged it yet.
     */
    public String checkpointDiagnosis(String jobId) {
        StringBuilder out = new StringBuilder();
        JsonNode job = get("/jobs/" + jobId);
        out.append("job ").append(job.path("state").asText()).append("; tasks:");
        for (JsonNode vertex : job.path("vertices")) {
            out.append("\n  ")
                    .append(vertex.path("name").asText())
                    .append(' ')
                    .append(nonZero(vertex.path("tasks")));
        }
        JsonNode checkpoints = get("/jobs/" + jobId + "/checkpoints");
        out.append("\ncheckpoints ").append(nonZero(checkpoints.path("counts")));
        JsonNode failed = checkpoints.path("latest").path("failed");
        if (!failed.isMissingNode() && !failed.isNull()) {
            out.append("\nlast failed: ")
                    .append(failed.path("id").asLong())
                    .append(' ')
                    .append(failed.path("failure_message").asText());
        }
        for (JsonNode entry : checkpoints.path("history")) {
            if (!"IN_PROGRESS".equals(entry.path("status").asText())) {
                continue;
            }
            long id = entry.path("id").asLong();
            out.append("\nin progress: ")
                    .append(id)
                    .append(", acknowledged ")
                    .append(entry.path("num_acknowledged_subtasks").asInt())
                    .append('/')
                    .append(entry.path("num_subtasks").asInt())
                    .append("; waiting for:");
            JsonNode details = get("/jobs/" + jobId + "/checkpoints/details/" + id);
            for (JsonNode vertex : details.path("tasks")) {
                int acknowledged = vertex.path("num_acknowledged_subtasks").asInt();
                int subtasks = vertex.path("num_subtasks").asInt();
                if (acknowledged < subtasks) {
                    String name = "?";
                    for (JsonNode v : job.path("vertices")) {
                        if (v.path("id").asText().equals(vertex.path("id").asText())) {
                            name = v.path("name").asText();
                        }
                    }
                    out.append("\n  ").append(name).append(' ');
                    out.append(acknowledged).append('/').append(subtasks);
                }
            }
        }
        return out.toString();
    }

    /**
     * The stacks of the busy task threads (named "{@code vertex (i/n)#attempt}"; idle ones, waiting
     * for mail, are left out) of every TaskManager, from Flink's thread dump endpoint: where each
     * subtask is stuck, for a hang's diagnosis.
     */
    public String taskThreadStacks() {
        StringBuilder out = new StringBuilder();
        for (JsonNode tm : taskManagers()) {
            String id = tm.path("id").asText();
            for (JsonNode thread :
                    get("/taskmanagers/" + id + "/thread-dump").path("threadInfos")) {
                String stack = thread.path("stringifiedThreadInfo").asText();
                if (thread.path("threadName").asText().matches(".*\\(\\d+/\\d+\\)#\\d+")
                        && !stack.contains("processMailsWhenDefaultActionUnavailable")) {
                    out.append("\n[").append(id).append("] ");
                    stack.lines().limit(12).forEach(l -> out.append(l.strip()).append("\n    "));
                }
            }
        }
        return out.toString();
    }

    private static String nonZero(JsonNode counts) {
        StringBuilder out = new StringBuilder();
        counts.fields()
                .forEachRemaining(
                        e -> {
                            if (e.getValue().asLong() != 0) {
                                out.append(out.length() == 0 ? "" : ", ")
                                        .append(e.getKey())
                                        .append('=')
                                        .append(e.getValue().asLong());
                            }
                        });
        return "{" + out + "}";
    }

    /**
     * How many failures the job has handled so far, each followed by one restart: the entries of
     * its exception history (up to {@code web.exception-history-size}). Unlike the {@code
     * numRestarts} metric, which the REST endpoint samples every few seconds, it is current.
     */
    public int failures(String jobId) {
        return get("/jobs/" + jobId + "/exceptions")
                .path("exceptionHistory")
                .path("entries")
                .size();
    }

    /** The root causes of the job's failures so far, newest first. */
    public List<String> exceptions(String jobId) {
        List<String> out = new ArrayList<>();
        for (JsonNode entry :
                get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries")) {
            out.add(
                    entry.path("exceptionName").asText()
                            + ": "
                            + entry.path("stacktrace").asText().lines().findFirst().orElse("")
                            + " @ "
                            + entry.path("taskManagerLocation").path("host").asText(""));
        }
        return out;
    }

    /** Ids of the jobs the cluster knows with their states. */
    public List<JsonNode> jobs() {
        List<JsonNode> out = new ArrayList<>();
        get("/jobs").path("jobs").forEach(out::add);
        return out;
    }

    /** Resource ids of the registered TaskManagers, with their free and total slots. */
    public List<JsonNode> taskManagers() {
        List<JsonNode> out = new ArrayList<>();
        get("/taskmanagers").path("taskmanagers").forEach(out::add);
        return out;
    }

    /** A metric of TaskManager {@code id}, if it reports one. */
    public Optional<Double> taskManagerMetric(String id, String metric) {
        for (JsonNode m : get("/taskmanagers/" + id + "/metrics?get=" + metric)) {
            return Optional.of(m.path("value").asDouble());
        }
        return Optional.empty();
    }

    /** Whether the REST endpoint answers. */
    public boolean answers() {
        try {
            get("/config");
            return true;
        } catch (RuntimeException notYet) {
            return false;
        }
    }

    public JsonNode get(String path) {
        return send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .timeout(Duration.ofSeconds(30))
                        .GET()
                        .build());
    }

    /** The first line and every "Caused by" line of Flink's error stack traces. */
    private static String causes(String body) {
        try {
            StringBuilder out = new StringBuilder();
            for (JsonNode error : JSON.readTree(body).path("errors")) {
                error.asText()
                        .lines()
                        .filter(l -> out.length() == 0 || l.startsWith("Caused by"))
                        .forEach(l -> out.append(l.strip()).append(" | "));
            }
            return out.length() == 0 ? body : out.toString();
        } catch (IOException notJson) {
            return body;
        }
    }

    private JsonNode post(String path, JsonNode body, Duration timeout) {
        return send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .timeout(timeout)
                        .build());
    }

    private JsonNode send(HttpRequest request) {
        try {
            HttpResponse<String> response =
                    http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException(
                        request.method()
                                + " "
                                + request.uri()
                                + " answered "
                                + response.statusCode()
                                + ": "
                                + causes(response.body()));
            }
            String body = response.body();
            return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
