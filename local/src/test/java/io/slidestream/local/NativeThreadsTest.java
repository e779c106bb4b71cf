package io.slidestream.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeThreadsTest {

    @Test
    void tellsTheCollectorAndTheCompilerFromTheirNativeNames() {
        assertThat(NativeThreads.role("GC Thread#0")).isEqualTo(NativeThreads.GC);
        assertThat(NativeThreads.role("G1 Refine#0")).isEqualTo(NativeThreads.GC);
        assertThat(NativeThreads.role("G1 Conc#0")).isEqualTo(NativeThreads.GC);
        assertThat(NativeThreads.role("C2 CompilerThre")).isEqualTo(NativeThreads.JIT);
        assertThat(NativeThreads.role("C1 CompilerThre")).isEqualTo(NativeThreads.JIT);
        assertThat(NativeThreads.role("tile-reader-0-1")).isEqualTo(-1);
        assertThat(NativeThreads.role("VM Thread")).isEqualTo(-1);
        assertThat(NativeThreads.role(null)).isEqualTo(-1);
    }

    @Test
    void readsUserAndSystemTicksAfterTheLastParenthesis() {
        assertThat(NativeThreads.cpuTicks(stat("C2 (odd) name", 250, 7))).isEqualTo(257);
        assertThat(NativeThreads.cpuTicks("12 (cut")).isEqualTo(-1);
        assertThat(NativeThreads.cpuTicks("12 (x) S 1")).isEqualTo(-1);
        assertThat(NativeThreads.cpuTicks(null)).isEqualTo(-1);
    }

    @Test
    void sumsByRoleAndKeepsTheCpuOfThreadsThatEnded(@TempDir Path tasks) throws IOException {
        task(tasks, "101", "GC Thread#0", 30, 10);
        task(tasks, "102", "C2 CompilerThre", 200, 5);
        task(tasks, "103", "tile-reader-0-0", 9000, 9);
        NativeThreads threads = new NativeThreads(tasks);
        assertThat(threads.cpuNanos()).containsExactly(400_000_000L, 2_050_000_000L);

        task(tasks, "102", "C2 CompilerThre", 300, 5); // compiled some more
        task(tasks, "104", "G1 Refine#0", 1, 1); // started
        deleteTask(tasks, "101"); // ended: its 40 ticks stay
        assertThat(threads.cpuNanos()).containsExactly(420_000_000L, 3_050_000_000L);
        assertThat(threads.cpuNanos()).containsExactly(420_000_000L, 3_050_000_000L);
    }

    @Test
    void givesZerosWithoutAProcDirectory(@TempDir Path dir) {
        assertThat(new NativeThreads(dir.resolve("absent")).cpuNanos()).containsExactly(0L, 0L);
    }

    @Test
    void readsThisJvmsOwnCompilerThreads() {
        // Running this test compiled classes, so the JIT threads have used CPU by now.
        long[] cpu = new NativeThreads().cpuNanos();
        assertThat(cpu[NativeThreads.JIT]).isPositive();
        assertThat(cpu[NativeThreads.GC] + cpu[NativeThreads.JIT])
                .isLessThanOrEqualTo(CpuSampler.jvmCpuNanosNow());
    }

    private static String stat(String comm, long utime, long stime) {
        return "42 ("
                + comm
                + ") S 1 42 42 0 -1 4194368 100 0 0 0 "
                + utime
                + " "
                + stime
                + " 0 0 20 0 30 0 12345 0 0";
    }

    private static void task(Path tasks, String tid, String comm, long utime, long stime)
            throws IOException {
        Path task = Files.createDirectories(tasks.resolve(tid));
        Files.writeString(task.resolve("comm"), comm + "\n");
        Files.writeString(task.resolve("stat"), stat(comm, utime, stime) + "\n");
    }

    private static void deleteTask(Path tasks, String tid) throws IOException {
        Path task = tasks.resolve(tid);
        Files.delete(task.resolve("comm"));
        Files.delete(task.resolve("stat"));
        Files.delete(task);
    }
}
