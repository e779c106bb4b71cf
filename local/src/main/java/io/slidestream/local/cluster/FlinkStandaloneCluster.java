package io.slidestream.local.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.local.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A Flink 2.1 standalone session cluster of separate JVM processes, assembled from the single Maven
 * Central artifacts because {@code flink-dist} 2.x is not published there: one JobManager ({@code
 * StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}), all reading
 * one {@code config.yaml} from a {@code conf/} folder, with the JVM memory flags computed by
 * Flink's own {@code BashJavaUtils} (as {@code jobmanager.sh}/{@code taskmanager.sh} do), the S3
 * file system plugin under {@code plugins/}, and the classpath of a distribution's {@code lib/}
 * (testbed module {@code flink}), which carries ONNX Runtime and JNA as SlideStream's deployment
 * notes require.
 *
 * <p>TaskManagers can be killed with SIGKILL and replacements started (each with a new resource id,
 * {@code tm-<n>}); {@link #gc} runs a full GC in a TaskManager so that metaspace readings show what
 * is still reachable.
 */
public final class FlinkStandaloneCluster implements AutoCloseable {
    private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    private final Path dir;
    private final Testbed testbed;
    private final List<String> classpath;
    private final FlinkRestClient rest;
    private final int restPort;
    private final Map<String, ChildProcess> taskManagers = new LinkedHashMap<>();

    /** TaskManagers that exited without being killed, with the reason their log gives. */
    private final List<String> exited = new ArrayList<>();

    private final List<String> javaOptions = new ArrayList<>();
    private final List<String> jobManagerOptions = new ArrayList<>();
    private final List<String> taskManagerOptions = new ArrayList<>();
    private final Map<String, String> processEnvironment = new LinkedHashMap<>();
    private ChildProcess jobManager;
    private int nextTaskManager = 1;

    private FlinkStandaloneCluster(Path dir, Testbed testbed, int restPort) {
        this.dir = dir;
        this.testbed = testbed;
        this.classpath = testbed.classpath("flink");
        this.restPort = restPort;
        this.rest = new FlinkRestClient("http://127.0.0.1:" + restPort);
    }

    /**
     * Writes {@code dir}/conf/config.yaml from {@code settings} (plus the addresses and ports of
     * this host) and starts the JobManager and {@code taskManagers} TaskManagers, each with {@code
     * environment} added to its environment; returns when all are registered.
     */
    public static FlinkStandaloneCluster start(
            Testbed testbed,
            Path dir,
            Map<String, String> settings,
            Map<String, String> environment,
            int taskManagers) {
        int[] ports = Ports.free(2);
        FlinkStandaloneCluster cluster = new FlinkStandaloneCluster(dir, testbed, ports[1]);
        cluster.processEnvironment.putAll(environment);
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("jobmanager.rpc.address", "127.0.0.1");
        conf.put("jobmanager.rpc.port", Integer.toString(ports[0]));
        conf.put("jobmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.host", "127.0.0.1");
        conf.put("rest.address", "127.0.0.1");
        conf.put("rest.bind-address", "127.0.0.1");
        conf.put("rest.port", Integer.toString(ports[1]));
        conf.put("web.upload.dir", dir.resolve("uploads").toAbsolutePath().toString());
        conf.put("io.tmp.dirs", dir.resolve("tmp").toAbsolutePath().toString());
        conf.putAll(settings);
        try {
            Files.createDirectories(dir.resolve("conf"));
            Files.createDirectories(dir.resolve("uploads"));
            Files.createDirectories(dir.resolve("tmp"));
            Files.createDirectories(dir.resolve("plugins"));
            Path plugin = dir.resolve("plugins").resolve("s3-fs-hadoop");
            if (!Files.exists(plugin)) {
                Files.createSymbolicLink(plugin, testbed.flinkS3Plugin());
            }
            Files.writeString(dir.resolve("conf/config.yaml"), yaml(conf));
            // As Flink's scripts do: env.java.opts.all goes on every JVM's command line, the
            // jobmanager and taskmanager variants on theirs.
            cluster.javaOptions.addAll(split(conf.getOrDefault("env.java.opts.all", "")));
            cluster.jobManagerOptions.addAll(
                    split(conf.getOrDefault("env.java.opts.jobmanager", "")));
            cluster.taskManagerOptions.addAll(
                    split(conf.getOrDefault("env.java.opts.taskmanager", "")));
            Files.writeString(dir.resolve("conf/log4j.properties"), LOG4J);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            cluster.startJobManager();
            for (int i = 0; i < taskManagers; i++) {
                cluster.startTaskManager();
            }
            cluster.awaitTaskManagers(taskManagers);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private void startJobManager() {
        List<String> jvm = new ArrayList<>(resourceParams("GET_JM_RESOURCE_PARAMS"));
        List<String> dynamic = dynamicConfigs(jvm);
        jobManager =
                ChildProcess.start(
                        "jobmanager",
                        ChildProcess.java(
                                classpath,
                                jvmOptions(jvm, jobManagerOptions),
                                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                                args(dynamic)),
                        environment(),
                        dir,
                        dir.resolve("log/jobmanager.log"));
        jobManager.awaitReady(
                "serving REST on " + restPort, Duration.ofSeconds(120), rest::answers);
    }

    /** Starts one more TaskManager ({@code tm-<n>}) and returns its resource id. */
    public synchronized String startTaskManager() {
        String id = "tm-" + nextTaskManager++;
        List<String> jvm = new ArrayList<>(resourceParams("GET_TM_RESOURCE_PARAMS"));
        List<String> dynamic = dynamicConfigs(jvm);
        List<String> args = new ArrayList<>(args(dynamic));
        args.add("-D");
        args.add("taskmanager.resource-id=" + id);
        ChildProcess tm =
                ChildProcess.start(
                        id,
                        ChildProcess.java(
                                classpath,
                                jvmOptions(jvm, taskManagerOptions),
                                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                                args),
                        environment(),
                        dir,
                        dir.resolve("log/" + id + ".log"));
        taskManagers.put(id, tm);
        return id;
    }

    /** Waits until {@code count} TaskManagers are registered with the JobManager. */
    public void awaitTaskManagers(int count) {
        jobManager.awaitReady(
                count + " TaskManagers registered",
                Duration.ofSeconds(180),
                () -> rest.taskManagers().size() >= count);
    }

    /** SIGKILLs TaskManager {@code id}. */
    public synchronized void killTaskManager(String id) {
        ChildProcess tm = taskManagers.remove(id);
        if (tm == null) {
            throw new IllegalArgumentException("no running TaskManager " + id);
        }
        tm.kill();
    }

    /** Resource ids of the TaskManager processes this cluster started and that still run. */
    public synchronized List<String> runningTaskManagers() {
        reapExited();
        return new ArrayList<>(taskManagers.keySet());
    }

    /**
     * The TaskManagers that exited on their own (not killed through {@link #killTaskManager}), each
     * with the last error its log reports, e.g. {@code OutOfMemoryError: Metaspace}.
     */
    public synchronized List<String> exitedTaskManagers() {
        reapExited();
        return new ArrayList<>(exited);
    }

    private void reapExited() {
        taskManagers
                .entrySet()
                .removeIf(
                        e -> {
                            if (e.getValue().isAlive()) {
                                return false;
                            }
                            exited.add(e.getKey() + " exited: " + e.getValue().lastError());
                            return true;
                        });
    }

    /** Runs a full GC in TaskManager {@code id} or the {@code jobmanager} ({@code jcmd GC.run}). */
    public void gc(String id) {
        run(List.of(jdkTool("jcmd"), Long.toString(pid(id)), "GC.run"));
    }

    /**
     * TaskManager {@code id}'s (or the {@code jobmanager}'s) used metaspace in bytes after a full
     * GC, read from the JVM itself ({@code jstat -gc}, column MU) rather than from Flink's metrics,
     * which the REST endpoint samples only every few seconds.
     */
    public long metaspaceAfterGc(String id) {
        gc(id);
        List<String> out = run(List.of(jdkTool("jstat"), "-gc", Long.toString(pid(id))));
        if (out.size() < 2) {
            throw new IllegalStateException("jstat printed no figures: " + out);
        }
        List<String> header = split(out.get(0));
        List<String> values = split(out.get(1));
        int column = header.indexOf("MU");
        if (column < 0 || column >= values.size()) {
            throw new IllegalStateException("jstat printed no MU column: " + out);
        }
        return (long) (Double.parseDouble(values.get(column)) * 1024);
    }

    /**
     * How many job class loaders (Flink's {@code ChildFirstClassLoader}) are alive in TaskManager
     * {@code id} or the {@code jobmanager} after a full GC ({@code jcmd VM.classloader_stats}).
     * With no job running, anything above zero is a leaked job.
     */
    public long jobClassLoaders(String id) {
        gc(id);
        return run(List.of(jdkTool("jcmd"), Long.toString(pid(id)), "VM.classloader_stats"))
                .stream()
                .filter(l -> l.contains("org.apache.flink.util.ChildFirstClassLoader"))
                .count();
    }

    /**
     * Writes a heap dump of TaskManager {@code id} or the {@code jobmanager} (live objects only) to
     * {@code file}, to find what keeps a job class loader alive ({@code jcmd GC.heap_dump}).
     */
    public Path dumpHeap(String id, Path file) {
        try {
            Files.deleteIfExists(file); // jcmd does not overwrite
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run(
                List.of(
                        jdkTool("jcmd"),
                        Long.toString(pid(id)),
                        "GC.heap_dump",
                        file.toAbsolutePath().toString()));
        return file;
    }

    /**
     * Writes what {@code jcmd <pid> <command>} prints for TaskManager {@code id} or the {@code
     * jobmanager} to {@code file} ({@code Thread.print}, {@code VM.classloaders}, ...).
     */
    public Path jcmdToFile(String id, Path file, String... command) {
        List<String> args = new ArrayList<>(List.of(Long.toString(pid(id))));
        args.addAll(List.of(command));
        return toolToFile(file, "jcmd", args.toArray(String[]::new));
    }

    /**
     * Writes the Java stacks of TaskManager {@code id} or the {@code jobmanager} as the
     * serviceability agent reads them ({@code jhsdb clhsdb}'s {@code where -a}) to {@code file}:
     * unlike {@code Thread.print}, it says which frames run compiled code, and a compiled frame
     * keeps alive the classes its code names. ({@code jhsdb jstack} would also walk the heap for
     * locks, minutes for a TaskManager.) The agent stops the process while it reads it: only when
     * no job runs.
     */
    public Path compiledFramesToFile(String id, Path file) {
        try {
            Path commands =
                    Files.writeString(
                            file.resolveSibling(file.getFileName() + ".in"), "where -a\nquit\n");
            Process p =
                    new ProcessBuilder(jdkTool("jhsdb"), "clhsdb", "--pid", Long.toString(pid(id)))
                            .redirectInput(commands.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(file.toFile())
                            .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("jhsdb clhsdb did not finish in 2 minutes");
            }
            Files.delete(commands);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Writes what the JDK tool {@code tool} prints for {@code args} to {@code file}. */
    public Path toolToFile(Path file, String tool, String... args) {
        List<String> command = new ArrayList<>(List.of(jdkTool(tool)));
        command.addAll(List.of(args));
        try {
            Files.write(file, run(command));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** The pid of TaskManager {@code id} or of the {@code jobmanager}. */
    public synchronized long pid(String id) {
        if (id.equals("jobmanager") && jobManager != null) {
            return jobManager.pid();
        }
        ChildProcess tm = taskManagers.get(id);
        if (tm == null) {
            throw new IllegalArgumentException("no running TaskManager " + id);
        }
        return tm.pid();
    }

    public FlinkRestClient rest() {
        return rest;
    }

    public String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    public Path dir() {
        return dir;
    }

    /** The log file of TaskManager {@code id} or {@code jobmanager}. */
    public Path log(String process) {
        return dir.resolve("log/" + process + ".log");
    }

    @Override
    public synchronized void close() {
        for (ChildProcess tm : taskManagers.values()) {
            tm.stop(Duration.ofSeconds(20));
        }
        taskManagers.clear();
        if (jobManager != null) {
            jobManager.stop(Duration.ofSeconds(20));
            jobManager = null;
        }
    }

    private Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>(processEnvironment);
        env.put("FLINK_CONF_DIR", dir.resolve("conf").toAbsolutePath().toString());
        env.put("FLINK_PLUGINS_DIR", dir.resolve("plugins").toAbsolutePath().toString());
        return env;
    }

    private List<String> jvmOptions(List<String> resourceJvmParams, List<String> roleOptions) {
        List<String> options = new ArrayList<>(resourceJvmParams);
        options.addAll(javaOptions);
        options.addAll(roleOptions);
        options.add(
                "-Dlog4j.configurationFile=file:"
                        + dir.resolve("conf/log4j.properties").toAbsolutePath());
        options.add("-XX:+HeapDumpOnOutOfMemoryError");
        options.add("-XX:HeapDumpPath=" + dir.resolve("log").toAbsolutePath());
        return options;
    }

    private List<String> args(List<String> dynamicConfigs) {
        List<String> args = new ArrayList<>();
        args.add("--configDir");
        args.add(dir.resolve("conf").toAbsolutePath().toString());
        args.addAll(dynamicConfigs);
        return args;
    }

    /**
     * Flink's memory calculation for a process ({@code BashJavaUtils}): the first result line holds
     * the JVM flags, the second (TaskManagers and JobManagers alike) the derived configuration as
     * {@code -D key=value} pairs; returned as flags followed by a {@code "--"} marker and the
     * pairs.
     */
    private List<String> resourceParams(String command) {
        List<String> out =
                run(
                        ChildProcess.java(
                                classpath,
                                List.of("-Xmx256m"),
                                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                                List.of(
                                        command,
                                        "--configDir",
                                        dir.resolve("conf").toAbsolutePath().toString())));
        List<String> results =
                out.stream()
                        .filter(l -> l.startsWith(RESULT_PREFIX))
                        .map(l -> l.substring(RESULT_PREFIX.length()).strip())
                        .toList();
        if (results.isEmpty()) {
            throw new IllegalStateException(
                    "BashJavaUtils " + command + " printed no result: " + String.join("\n", out));
        }
        List<String> params = new ArrayList<>(split(results.get(0)));
        params.add("--");
        if (results.size() > 1) {
            params.addAll(split(results.get(1)));
        }
        return params;
    }

    /** Removes the {@code "--"} marker and what follows from {@code params}; returns that part. */
    private static List<String> dynamicConfigs(List<String> params) {
        int marker = params.indexOf("--");
        List<String> dynamic = new ArrayList<>(params.subList(marker + 1, params.size()));
        params.subList(marker, params.size()).clear();
        return dynamic;
    }

    private static List<String> split(String line) {
        return Arrays.stream(line.split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    private static String jdkTool(String name) {
        return Path.of(System.getProperty("java.home"), "bin", name).toString();
    }

    private List<String> run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(
                        "`" + String.join(" ", command) + "` failed: " + output);
            }
            return output.lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:;,=+@*-]+");

    /** Flat {@code key: value} YAML, values quoted unless plain. */
    static String yaml(Map<String, String> conf) {
        StringBuilder out = new StringBuilder("# Written by SlideStream's local Flink cluster.\n");
        conf.forEach(
                (k, v) ->
                        out.append(k)
                                .append(": ")
                                .append(
                                        PLAIN.matcher(v).matches() && !v.contains(": ")
                                                ? v
                                                : "'" + v.replace("'", "''") + "'")
                                .append('\n'));
        return out.toString();
    }

    /** Every process logs to its standard output, which {@link ChildProcess} keeps in a file. */
    private static final String LOG4J =
            String.join(
                    "\n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.console.ref = console",
                    "appender.console.type = Console",
                    "appender.console.name = console",
                    "appender.console.layout.type = PatternLayout",
                    "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} [%t] - %m%n",
                    "logger.akka.name = org.apache.pekko",
                    "logger.akka.level = WARN",
                    "logger.kafka.name = org.apache.kafka",
                    "logger.kafka.level = WARN",
                    "logger.hadoop.name = org.apache.hadoop",
                    "logger.hadoop.level = WARN",
                    "logger.metrics.name = org.apache.flink.metrics.MetricGroup",
                    "logger.metrics.level = ERROR",
                    "");

    /** For tests: the registered TaskManagers as the JobManager sees them. */
    public List<JsonNode> registeredTaskManagers() {
        return rest.taskManagers();
    }
}
