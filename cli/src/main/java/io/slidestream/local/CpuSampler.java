package io.slidestream.local;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples, ten times a second, the CPU time of this JVM and of every process it started (the
 * embedded stack's Milvus Lite server), so that a benchmark can state the CPU a window of a run
 * cost: {@link #cpuNanosBetween} interpolates between the samples around the window's ends. The
 * sampling thread is a daemon and ends with {@link #close()}.
 */
public final class CpuSampler implements AutoCloseable {
    private static final long PERIOD_MILLIS = 100;

    private final List<long[]> samples = new ArrayList<>();
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
        long jvm = jvmCpuNanosNow();
        long children = childrenCpuNanosNow();
        long now = System.nanoTime();
        synchronized (samples) {
            samples.add(new long[] {now, jvm, children});
        }
    }

    /**
     * CPU nanoseconds this JVM ({@code [0]}) and its child processes ({@code [1]}) spent between
     * two {@link System#nanoTime()} instants inside the sampled span, each end interpolated
     * linearly between its neighbouring samples.
     */
    public double[] cpuNanosBetween(long from, long to) {
        sample();
        return new double[] {cpuAt(to, 1) - cpuAt(from, 1), cpuAt(to, 2) - cpuAt(from, 2)};
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
}
