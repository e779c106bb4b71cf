package io.slidestream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The CPU time of this JVM's garbage collector and JIT compiler, whose threads are native threads
 * that {@link java.lang.management.ThreadMXBean} does not list, read from Linux's {@code
 * /proc/self/task}. HotSpot names them ({@code GC Thread#0}, {@code G1 Conc#0}, {@code G1
 * Refine#0}, {@code C2 CompilerThre}, ...), so a thread's name, read once per thread id, tells its
 * role; each sample then reads only the {@code stat} files of those threads. A thread that ends
 * keeps its last reading in the total, so the figures never go back. Where {@code /proc} is missing
 * (not Linux) every figure is 0. Thread-safe: calls are serialised (the sampling thread and a
 * caller asking for a last sample may call at once).
 */
final class NativeThreads {
    static final int GC = 0;
    static final int JIT = 1;
    private static final int NEITHER = -1;

    /** Linux's USER_HZ, the unit of {@code utime} and {@code stime}: 100 on every Linux ABI. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    /** Name prefixes (the kernel keeps 15 characters of a thread's name), by role. */
    private static final List<List<String>> PREFIXES =
            List.of(
                    List.of("GC Thread", "G1 ", "Shenandoah", "ZWorker", "ZDirector", "ZDriver"),
                    List.of("C1 CompilerThre", "C2 CompilerThre", "JVMCI"));

    private final Path tasks;
    private final Map<String, Integer> roles = new HashMap<>();

    /** Per live GC/JIT thread id: its role and its last CPU reading in nanoseconds. */
    private final Map<String, long[]> lastCpu = new HashMap<>();

    private final long[] ended = new long[2];

    NativeThreads() {
        this(Path.of("/proc/self/task"));
    }

    /** Reads a {@code /proc/PID/task}-shaped directory (tests). */
    NativeThreads(Path tasks) {
        this.tasks = tasks;
    }

    /** CPU nanoseconds so far of the garbage collector's ({@code [0]}) and JIT's ({@code [1]}). */
    synchronized long[] cpuNanos() {
        long[] out = ended.clone();
        if (!Files.isDirectory(tasks)) {
            return out;
        }
        Set<String> listed = new HashSet<>();
        try (Stream<Path> list = Files.list(tasks)) {
            list.forEach(task -> listed.add(task.getFileName().toString()));
        } catch (IOException | UncheckedIOException e) {
            return out; // no listing this time: the figure stays where it was
        }
        roles.keySet().retainAll(listed);
        for (var it = lastCpu.entrySet().iterator(); it.hasNext(); ) {
            var thread = it.next();
            if (!listed.contains(thread.getKey())) {
                // Ended: its last reading stays in the total.
                ended[thread.getValue()[0] == GC ? GC : JIT] += thread.getValue()[1];
                it.remove();
            }
        }
        out = ended.clone();
        for (String tid : listed) {
            Path task = tasks.resolve(tid);
            int role = roles.computeIfAbsent(tid, t -> role(read(task.resolve("comm"))));
            if (role == NEITHER) {
                continue;
            }
            long ticks = cpuTicks(read(task.resolve("stat")));
            long[] last = lastCpu.computeIfAbsent(tid, t -> new long[] {role, 0});
            if (ticks >= 0) {
                last[1] = ticks * NANOS_PER_TICK;
            }
            out[role] += last[1];
        }
        return out;
    }

    /** The role of a native thread from its name, {@link #GC}, {@link #JIT} or -1. */
    static int role(String comm) {
        if (comm == null) {
            return NEITHER;
        }
        for (int r = 0; r < PREFIXES.size(); r++) {
            for (String prefix : PREFIXES.get(r)) {
                if (comm.startsWith(prefix)) {
                    return r;
                }
            }
        }
        return NEITHER;
    }

    /**
     * {@code utime + stime} in clock ticks from a {@code stat} line, or -1 when there is none. The
     * name in parentheses may hold spaces and parentheses, so the fields are counted after the last
     * {@code ')'}: the state is field 3, utime field 14 and stime field 15.
     */
    static long cpuTicks(String stat) {
        if (stat == null) {
            return -1;
        }
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return -1;
        }
        String[] fields = stat.substring(close + 1).trim().split(" ");
        if (fields.length < 13) {
            return -1;
        }
        try {
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return null;
        }
    }
}
