package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.local.cluster.ClusterStack;
import io.slidestream.local.cluster.Testbed;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Why the cluster's JVMs never compile the JDK's worker loop: {@code Thread.run}, {@code
 * ThreadPoolExecutor.runWorker} and {@code ThreadPoolExecutor.getTask} are excluded from JIT
 * compilation in {@code env.java.opts.all} of {@code deploy/conf/flink-config.yaml}.
 *
 * <p>C2 compiles these with the types its profile has seen: the receiver of {@code task.run()} and
 * the cast of the task taken from the queue. When a job's tasks dominated the profile, the compiled
 * code names the job's classes. A thread keeps alive every class its frames' compiled code names,
 * and a worker of a long-lived pool (a TaskManager's I/O threads) parks inside that loop until its
 * next task comes, which for a seldom used pool is never: the job's class loader, with every class
 * it loaded, stays in the TaskManager for good. A heap dump shows no path to it (code is not a heap
 * root). It is rare, as it needs the compilation and the worker's last task to fall together, and
 * it was the JDBC-catalog job's leak of issue 20: about one job in 90.
 *
 * <p>Each case runs {@link IdleWorkerProbe} in a child JVM with {@code -Xbatch} (compilations
 * finish before the code that asked for them goes on, so the outcome does not depend on timing):
 * with the shipped options the job's loader goes; without any one of the three exclusions it stays.
 * When a JDK no longer keeps it, the last cases fail, and the exclusions can go.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class IdleWorkerClassLoaderITCase {
    private static final String EXCLUDE = "-XX:CompileCommand=exclude,";

    private static List<String> shippedExclusions;

    @BeforeAll
    static void readShippedOptions() {
        String all =
                ClusterStack.shippedFlinkConfig(Testbed.locate().home())
                        .getOrDefault("env.java.opts.all", "");
        shippedExclusions =
                Arrays.stream(all.trim().split("\\s+"))
                        .filter(o -> o.startsWith("-XX:CompileCommand="))
                        .toList();
    }

    @Test
    void withTheShippedOptionsTheJobsClassLoaderGoes() throws Exception {
        assertThat(shippedExclusions)
                .contains(
                        EXCLUDE + "java.lang.Thread::run",
                        EXCLUDE + "java.util.concurrent.ThreadPoolExecutor::runWorker",
                        EXCLUDE + "java.util.concurrent.ThreadPoolExecutor::getTask");
        assertThat(probe(shippedExclusions)).isEqualTo("released");
    }

    @Test
    void withoutThemAnIdleWorkerKeepsIt() throws Exception {
        assertThat(probe(List.of())).isEqualTo("kept");
    }

    @Test
    void eachExclusionIsNeeded() throws Exception {
        for (String exclusion : shippedExclusions) {
            if (!exclusion.startsWith(EXCLUDE)) {
                continue;
            }
            List<String> others = new ArrayList<>(shippedExclusions);
            others.remove(exclusion);
            assertThat(probe(others)).as("without " + exclusion).isEqualTo("kept");
        }
    }

    /** Runs the probe in a JVM with these options; returns what it printed. */
    private static String probe(List<String> options) throws IOException, InterruptedException {
        List<String> jvmOptions = new ArrayList<>(List.of("-Xbatch"));
        jvmOptions.addAll(options);
        Process process =
                new ProcessBuilder(ChildJvm.command(jvmOptions, IdleWorkerProbe.class))
                        .redirectErrorStream(true)
                        .start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(1, TimeUnit.MINUTES)).as("probe finished").isTrue();
        assertThat(process.exitValue()).as("probe's exit status; it printed:%n%s", out).isZero();
        return out.trim();
    }
}
