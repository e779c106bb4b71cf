package io.slidestream.it;

import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The child process of {@link IdleWorkerClassLoaderITCase}: plays a job and a TaskManager in one
 * JVM and prints whether the job's class loader outlived the job ({@code kept}) or not ({@code
 * released}).
 *
 * <p>The job is {@link JobTask}, defined again by a class loader of its own, as Flink's job class
 * loader does. It runs the way a job's code runs in a TaskManager: on the job's thread pools (many
 * short-lived workers) and on threads of its own, often enough for the JIT compiler to compile the
 * JDK's worker loop ({@code Thread.run}, {@code ThreadPoolExecutor.runWorker} and {@code getTask})
 * with a profile that has seen only the job's task. Then a pool of the process (the TaskManager's
 * I/O threads) starts a worker, which parks in {@code getTask} and waits for work that seldom
 * comes. The job ends: its pools are gone, its loader closed, nothing on the heap refers to it.
 */
public final class IdleWorkerProbe {
    private static final int JOB_POOLS = 300;
    private static final int TASKS_PER_POOL = 2_000;
    private static final int THREADS_PER_POOL = 20;

    private IdleWorkerProbe() {}

    /** The job's code: a task, loaded by the job's class loader. */
    public static final class JobTask implements Runnable {
        static long runs;

        @Override
        public void run() {
            runs++;
        }
    }

    public static void main(String[] args) throws Exception {
        URL own = IdleWorkerProbe.class.getProtectionDomain().getCodeSource().getLocation();
        URLClassLoader job =
                new URLClassLoader(new URL[] {own}, ClassLoader.getPlatformClassLoader());
        Runnable task =
                (Runnable)
                        job.loadClass(JobTask.class.getName())
                                .getDeclaredConstructor()
                                .newInstance();
        if (task.getClass().getClassLoader() != job) {
            throw new IllegalStateException("the job's task was not defined by the job's loader");
        }
        for (int p = 0; p < JOB_POOLS; p++) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            for (int i = 0; i < TASKS_PER_POOL; i++) {
                pool.execute(task);
            }
            pool.shutdown();
            if (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the job's pool did not finish");
            }
            for (int t = 0; t < THREADS_PER_POOL; t++) {
                Thread thread = new Thread(task);
                thread.start();
                thread.join();
            }
        }

        AtomicReference<Thread> worker = new AtomicReference<>();
        ThreadPoolExecutor process =
                new ThreadPoolExecutor(
                        1,
                        1,
                        0,
                        TimeUnit.SECONDS,
                        new LinkedBlockingQueue<>(),
                        r -> {
                            Thread t = new Thread(r, "process-io");
                            worker.set(t);
                            return t;
                        });
        process.prestartCoreThread();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (worker.get().getState() != Thread.State.WAITING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the process's worker never waited for work");
            }
            Thread.onSpinWait();
        }

        WeakReference<ClassLoader> loader = new WeakReference<>(job);
        job.close();
        job = null;
        task = null;
        for (int gc = 0; gc < 10 && loader.get() != null; gc++) {
            System.gc();
        }
        System.out.println(loader.get() == null ? "released" : "kept");
        process.shutdownNow();
    }
}
