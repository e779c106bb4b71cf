package io.slidestream.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CpuSamplerTest {
    /** Keeps the busy loop's result alive, so the JIT cannot drop the loop. */
    private static volatile double sink;

    @Test
    void groupsThreadsByRoleFromTheirNames() {
        assertThat(CpuSampler.role("tile-reader-0-3")).isZero();
        assertThat(CpuSampler.role("embed[gpfm-1234]-batcher")).isEqualTo(1);
        assertThat(CpuSampler.role("Slide window -> slide aggregate (1/2)#0")).isEqualTo(2);
        assertThat(CpuSampler.role("iceberg-worker-pool-3")).isEqualTo(3);
        assertThat(CpuSampler.role("data-plane-kafka-request-handler-1")).isEqualTo(4);
        assertThat(CpuSampler.role("flink-pekko.actor.default-dispatcher-5")).isEqualTo(5);
        assertThat(CpuSampler.role("main")).isEqualTo(CpuSampler.ROLES.size() - 1);
    }

    @Test
    void attributesCollectionsToTheGarbageCollector() {
        int gc = CpuSampler.ROLES.indexOf("garbage collector");
        try (CpuSampler sampler = CpuSampler.start()) {
            long from = System.nanoTime();
            // Full collections of a heap holding about a million live objects: well over the 10 ms
            // resolution of the kernel's per-thread CPU figures.
            Object[] live = new Object[1_000_000];
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < live.length; i++) {
                    live[i] = new int[] {i, round};
                }
                System.gc();
            }
            double[] cpu = sampler.cpuNanosBetween(from, System.nanoTime());
            assertThat(live[live.length - 1]).isNotNull();
            // [0] JVM, [1] children, [2 + role]
            assertThat(cpu[2 + gc]).isPositive().isLessThanOrEqualTo(cpu[0]);
        }
    }

    @Test
    void attributesABusyThreadsCpuToItsRole() throws Exception {
        CountDownLatch busyDone = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong threadCpu = new AtomicLong();
        try (CpuSampler sampler = CpuSampler.start()) {
            long from = System.nanoTime();
            Thread reader =
                    new Thread(
                            () -> {
                                var mx = ManagementFactory.getThreadMXBean();
                                long start = mx.getCurrentThreadCpuTime();
                                double x = 0;
                                while (mx.getCurrentThreadCpuTime() - start < 200_000_000L) {
                                    x += Math.sqrt(x + 1);
                                }
                                threadCpu.set(
                                        mx.getCurrentThreadCpuTime() - start + (long) (x * 0));
                                busyDone.countDown();
                                try {
                                    release.await();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            "tile-reader-9-9");
            reader.start();
            busyDone.await();
            double[] cpu = sampler.cpuNanosBetween(from, System.nanoTime());
            release.countDown();
            reader.join();
            // [0] JVM, [1] children, [2 + role]
            assertThat(cpu[2]).isGreaterThanOrEqualTo(threadCpu.get() * 0.9);
            assertThat(cpu[0]).isGreaterThanOrEqualTo(cpu[2]);
        }
    }
}
