package io.slidestream.local;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Samples, ten times a second, the CPU time of this JVM and of every process it started (the
 * embedded stack's Milvus Lite server), and of this JVM's threads grouped by role (from their
 * names: tile readers, Flink task threads, the embedded Kafka broker, ...), so that a benchmark can
 * state what a window of a run cost and where: {@link #cpuNanosBetween} interpolates between the
 * samples around the window's ends. The garbage collector's and the JIT compiler's threads are not
 * Java threads: on Linux their CPU is read from {@code /proc/self/task} (by their native names, see
 * {@link NativeThreads}); elsewhere, and for threads that ended between samples, it falls to the
 * rest of the JVM. The sampling thread is a daemon and ends with {@link #close()}.
 */
public final class CpuSampler implements AutoCloseable {
    private static final long PERIOD_MILLIS = 100;

    /** Roles of this JVM's threads, by name; the first match wins, the rest is "other". */
    public static final List<String> ROLES =
            List.of(
                    "tile readers (read, decode, preprocess)",
                    "inference (batcher, ONNX Runtime)",
                    "Flink task threads (operators, sinks)",
                    "store clients (Iceberg, Milvus, Kafka client pools)",
                    "embedded Kafka broker",
                    "Flink runtime (JobManager, checkpoints, RPC)",
                    "garbage collector",
                    "JIT compiler",
                    "other JVM (VM thread, unnamed, ended threads)");

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** A Flink task thread's name ends in "(subtask/parallelism)#attempt". */
    private static final Pattern FLINK_TASK = Pattern.compile("\\(\\d+/\\d+\\)#\\d+$");

    private final List<long[]> samples = new ArrayList<>();
    private final NativeThreads nativeThreads = new NativeThreads();
    private final Thread thread;
    private volatile boolean running = true;

    private CpuSampler() {
        thread = new Thread(this::loop, "cpu-sampler");
        thread.setDaemon(true);
    }

    /** Starts sampling now. */
    public static CpuSampler start() {
        CpuSampler sampler = new CpuSampler();
        sampler.sample();
        sampler.thread.start();
        return sampler;
    }

    /** CPU nanoseconds of this JVM, now. */
    public static long jvmCpuNanosNow() {
        return ((com.sun.management.OperatingSystemMXBean)
                        ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU nanoseconds of the processes this JVM started (and theirs), now. */
    public static long childrenCpuNanosNow() {
        return ProcessHandle.current()
                .descendants()
                .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L))
                .sum();
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            sample();
        }
    }

    private void sample() {
        long[] sample = new long[3 + ROLES.size()];
        long[] ids = THREADS.getAllThreadIds();
        ThreadInfo[] infos = THREADS.getThreadInfo(ids);
        long threads = 0;
        for (int i = 0; i < ids.length; i++) {
            long cpu = THREADS.getThreadCpuTime(ids[i]);
            if (infos[i] != null && cpu > 0) {
                sample[3 + role(infos[i].getThreadName())] += cpu;
                threads += cpu;
            }
        }
        long[] gcJit = nativeThreads.cpuNanos();
        sample[3 + GARBAGE_COLLECTOR] = gcJit[0];
        sample[3 + JIT_COMPILER] = gcJit[1];
        threads += gcJit[0] + gcJit[1];
        sample[1] = jvmCpuNanosNow();
        sample[2] = childrenCpuNanosNow();
        sample[3 + ROLES.size() - 1] += Math.max(0, sample[1] - threads);
        sample[0] = System.nanoTime();
        synchronized (samples) {
            samples.add(sample);
        }
    }

    /**
     * Thread-name prefixes of each role, in {@link #ROLES} order and tried in that order; the Flink
     * task threads are matched by {@link #FLINK_TASK} instead, and Pekko's RPC threads, whose names
     * contain "pekko", belong to the Flink runtime.
     */
    private static final List<List<String>> PREFIXES =
            List.of(
                    List.of("tile-reader-"),
                    List.of("embed[", "onnx-run"),
                    List.of(),
                    List.of(
                            "iceberg-",
                            "grpc-",
                            "kafka-producer-network-thread",
                            "kafka-coordinator-heartbeat-thread"),
                    List.of(
                            "data-plane-kafka",
                            "kafka-",
                            "broker-",
                            "controller-",
                            "quorum-controller",
                            "raft-",
                            "log-closing",
                            "ExpirationReaper",
                            "LogDirFailureHandler",
                            "ReplicaFetcher"),
                    List.of("flink-", "jobmanager-", "AsyncOperations", "Checkpoint"));

    private static final int FLINK_TASKS = 2;
    private static final int FLINK_RUNTIME = 5;
    private static final int GARBAGE_COLLECTOR = 6;
    private static final int JIT_COMPILER = 7;

    /** The index in {@link #ROLES} of a Java thread, from its name. */
    static int role(String name) {
        for (int r = 0; r < PREFIXES.size(); r++) {
            boolean match =
                    r == FLINK_TASKS
                            ? FLINK_TASK.matcher(name).find()
                            : PREFIXES.get(r).stream().anyMatch(name::startsWith)
                                    || (r == FLINK_RUNTIME && name.contains("pekko"));
            if (match) {
                return r;
            }
        }
        return ROLES.size() - 1;
    }

    /**
     * CPU nanoseconds this JVM ({@code [0]}), its child processes ({@code [1]}) and each of {@link
     * #ROLES} ({@code [2 + i]}) spent between two {@link System#nanoTime()} instants inside the
     * sampled span, each end interpolated linearly between its neighbouring samples.
     */
    public double[] cpuNanosBetween(long from, long to) {
        sample();
        double[] out = new double[2 + ROLES.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = cpuAt(to, 1 + i) - cpuAt(from, 1 + i);
        }
        return out;
    }

    private double cpuAt(long at, int which) {
        synchronized (samples) {
            long[] before = samples.get(0);
            for (long[] s : samples) {
                if (s[0] >= at) {
                    if (s[0] == before[0]) {
                        return s[which];
                    }
                    double f = (double) (at - before[0]) / (s[0] - before[0]);
                    return before[which] + f * (s[which] - before[which]);
                }
                before = s;
            }
            return before[which];
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }

    /** Peak resident set size of this process in KiB (Linux), or -1 where unknown. */
    public static long peakRssKb() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
