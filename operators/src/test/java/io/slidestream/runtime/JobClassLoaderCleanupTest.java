package io.slidestream.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.milvus.shaded.io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.slidestream.runtime.fixtures.JobCode;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URL;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.util.ChildFirstClassLoader;
import org.junit.jupiter.api.Test;

class JobClassLoaderCleanupTest {

    /**
     * The event loop threads of the Milvus client's (shaded) Netty ignore interrupts; the cleanup
     * finds their executor from the thread's runnable and shuts it down, which ends them - within a
     * second even while tasks keep arriving (Netty's own graceful shutdown waits for 2 quiet
     * seconds, up to 15), so that they are gone before Flink closes the job's class loader.
     */
    @Test
    void endsANettyEventLoopThreadFromItsRunnableAtOnce() throws Exception {
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        try {
            AtomicReference<Thread> loop = new AtomicReference<>();
            group.submit(() -> loop.set(Thread.currentThread())).get(10, TimeUnit.SECONDS);
            Thread thread = loop.get();
            thread.interrupt();
            thread.join(500);
            assertThat(thread.isAlive()).as("an interrupt does not end it").isTrue();
            // Another thread keeps handing it work, as the Milvus client's callers do.
            Thread feeder =
                    new Thread(
                            () -> {
                                try {
                                    while (true) {
                                        group.execute(() -> {});
                                        Thread.sleep(100);
                                    }
                                } catch (RuntimeException | InterruptedException e) {
                                    // rejected once the loop has shut down: done
                                }
                            });
            feeder.setDaemon(true);
            feeder.start();

            Field target = Thread.class.getDeclaredField("target");
            target.setAccessible(true);
            assertThat(JobClassLoaderCleanup.shutDownEventLoop(target.get(thread), 3)).isTrue();
            thread.join(8_000);
            assertThat(thread.isAlive()).as("ended within its 1 s shutdown timeout").isFalse();
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    /**
     * The Milvus client's gRPC runs its own (shaded) Netty event loops in the job's class loader.
     * When the release finds them still running (the client closed less than a second before, so
     * gRPC's destroyer had not shut them down yet), it must end them before it returns: Flink
     * closes the class loader right after, and an event loop still shutting down then cannot load
     * the classes its shutdown needs.
     */
    @Test
    void endsTheMilvusClientsEventLoopsBeforeTheClassLoaderCloses() throws Exception {
        awaitCollected(startMilvusEventLoopAndRelease());
    }

    private static WeakReference<ClassLoader> startMilvusEventLoopAndRelease() throws Exception {
        URL classes =
                JobClassLoaderCleanup.class.getProtectionDomain().getCodeSource().getLocation();
        String group =
                "io.milvus.shaded.io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup";
        URL milvus = Class.forName(group).getProtectionDomain().getCodeSource().getLocation();
        Thread loop;
        WeakReference<ClassLoader> job;
        try (ChildFirstClassLoader loader =
                new ChildFirstClassLoader(
                        new URL[] {classes, milvus},
                        JobClassLoaderCleanupTest.class.getClassLoader(),
                        new String[0],
                        error -> {})) {
            Object events =
                    Class.forName(group, true, loader).getConstructor(int.class).newInstance(1);
            AtomicReference<Thread> started = new AtomicReference<>();
            Runnable mark = () -> started.set(Thread.currentThread());
            ((java.util.concurrent.Future<?>)
                            events.getClass()
                                    .getMethod("submit", Runnable.class)
                                    .invoke(events, mark))
                    .get(10, TimeUnit.SECONDS);
            loop = started.get();
            assertThat(loop.getClass().getClassLoader()).isSameAs(loader);

            releaseIn(loader);
            assertThat(loop.isAlive()).as("the event loop ended within the release").isFalse();
            job = new WeakReference<>(loader);
        }
        return job;
    }

    /**
     * {@code TurboJpeg} maps its native methods directly ({@code Native.register}); JNA's native
     * code then holds JNI global references to them, which keep the class - and the job's class
     * loader - for good unless the cleanup unregisters the class. Loads it through Flink's
     * child-first job class loader (JNA parent-first, as deploy/conf sets it), runs the cleanup
     * there and waits for that class loader to be collected.
     */
    @Test
    void unregistersDirectMappedClassesSoTheJobClassLoaderGoes() throws Exception {
        awaitCollected(loadTurboJpegAndRelease());
    }

    private static WeakReference<ClassLoader> loadTurboJpegAndRelease() throws Exception {
        URL classes =
                JobClassLoaderCleanup.class.getProtectionDomain().getCodeSource().getLocation();
        try (ChildFirstClassLoader loader =
                new ChildFirstClassLoader(
                        new URL[] {classes},
                        JobClassLoaderCleanupTest.class.getClassLoader(),
                        new String[] {"com.sun.jna."},
                        error -> {})) {
            Class<?> turbo = Class.forName("io.slidestream.slide.TurboJpeg", true, loader);
            Method available = turbo.getDeclaredMethod("available");
            available.setAccessible(true);
            assertThat(available.invoke(null)).as("libturbojpeg loaded").isEqualTo(true);
            assertThat(turbo.getClassLoader()).isSameAs(loader);

            releaseIn(loader);
            return new WeakReference<>(loader);
        }
    }

    /**
     * Hadoop starts its statistics cleaner thread when {@code FileSystem.Statistics} is first
     * initialised; a thread started after the release (an Iceberg worker finishing a write through
     * {@code HadoopFileIO}) would run forever and pin the job's class loader through its frames.
     * The cleanup initialises the class itself and ends that thread, so a later use starts none.
     */
    @Test
    void endsHadoopsStatisticsCleanerAndLeavesNoneToStartLater() throws Exception {
        URL classes =
                JobClassLoaderCleanup.class.getProtectionDomain().getCodeSource().getLocation();
        URL hadoopApi =
                org.apache.hadoop.fs.FileSystem.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation();
        URL hadoopRuntime =
                Class.forName("org.apache.hadoop.shaded.com.google.common.base.Preconditions")
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation();
        try (ChildFirstClassLoader loader =
                new ChildFirstClassLoader(
                        new URL[] {classes, hadoopApi, hadoopRuntime},
                        JobClassLoaderCleanupTest.class.getClassLoader(),
                        new String[] {"org.slf4j."},
                        error -> {})) {
            releaseIn(loader);
            await("the job's Hadoop statistics cleaner ended")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> threadsRunning(loader).isEmpty());

            // What a task still finishing after the release would do: no thread starts.
            Class.forName("org.apache.hadoop.fs.FileSystem$Statistics", true, loader);
            assertThat(threadsRunning(loader)).isEmpty();
        }
    }

    /**
     * An S3 client the job never closed leaves its HTTP connection manager registered with the AWS
     * SDK's idle-connection reaper, a static singleton whose thread ignores interrupts and runs
     * while any manager is registered; the cleanup deregisters and shuts down the managers.
     */
    @Test
    void closesTheAwsSdksConnectionManagersSoTheJobClassLoaderGoes() throws Exception {
        awaitCollected(openAwsHttpClientAndRelease());
    }

    private static WeakReference<ClassLoader> openAwsHttpClientAndRelease() throws Exception {
        URL aws =
                Class.forName("software.amazon.awssdk.http.apache.ApacheHttpClient")
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation();
        try (ChildFirstClassLoader loader = jobLoader(aws)) {
            Class<?> client =
                    Class.forName(
                            "software.amazon.awssdk.http.apache.ApacheHttpClient", true, loader);
            Object builder = client.getMethod("builder").invoke(null);
            Method build = builder.getClass().getMethod("build");
            build.setAccessible(true);
            build.invoke(builder); // never closed, as on a cancelled job
            Class<?> reaper =
                    Class.forName(
                            "software.amazon.awssdk.http.apache.internal.conn.IdleConnectionReaper",
                            false,
                            loader);
            Object managers =
                    JobClassLoaderCleanup.field(
                            reaper.getMethod("getInstance").invoke(null),
                            reaper,
                            "connectionManagers");
            assertThat((java.util.Map<?, ?>) managers).as("registered with the reaper").hasSize(1);
            releaseIn(loader);
            return new WeakReference<>(loader);
        }
    }

    /**
     * Iceberg's worker pools are Guava exiting executors: each adds a JVM shutdown hook (a thread
     * whose runnable Guava, in the job jar, defined) that holds the pool. The cleanup shuts the
     * pool's threads down and removes the hook.
     */
    @Test
    void removesTheShutdownHooksOfIcebergsWorkerPools() throws Exception {
        awaitCollected(startIcebergWorkerPoolAndRelease());
    }

    private static WeakReference<ClassLoader> startIcebergWorkerPoolAndRelease() throws Exception {
        URL iceberg =
                Class.forName("org.apache.iceberg.util.ThreadPools")
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation();
        try (ChildFirstClassLoader loader = jobLoader(iceberg)) {
            Class<?> pools = Class.forName("org.apache.iceberg.util.ThreadPools", true, loader);
            java.util.concurrent.ExecutorService pool =
                    (java.util.concurrent.ExecutorService)
                            pools.getMethod("newWorkerPool", String.class, int.class)
                                    .invoke(null, "job-worker", 1);
            pool.submit(() -> {}).get(10, TimeUnit.SECONDS);
            releaseIn(loader);
            assertThat(pool.isShutdown()).isTrue();
            return new WeakReference<>(loader);
        }
    }

    /**
     * A value of a job class left in a thread-local of a thread that outlives the job (the
     * JobManager thread that ran {@code main()}) pins the job's class loader until the cleanup
     * clears it. Here the thread is the test's own.
     */
    @Test
    void clearsThreadLocalsOfTheJobsClassesOnLivingThreads() throws Exception {
        awaitCollected(leaveThreadLocalAndRelease());
    }

    private static WeakReference<ClassLoader> leaveThreadLocalAndRelease() throws Exception {
        try (ChildFirstClassLoader loader = jobLoader()) {
            jobCode(loader).apply("thread-local");
            releaseIn(loader);
            return new WeakReference<>(loader);
        }
    }

    /**
     * A thread of a library outside the job (JNA's cleaner in the cluster's lib/) started while a
     * task ran job code inherits the job's context class loader and an access-control context that
     * names the job's classes; it serves later jobs, so the cleanup re-parents it instead of ending
     * it.
     */
    @Test
    void detachesLongLivedThreadsThatInheritedTheJobsClassLoader() throws Exception {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        AtomicReference<Thread> library = new AtomicReference<>();
        try {
            awaitCollected(startLibraryThreadAndRelease(done, library));
            assertThat(library.get().isAlive()).as("the library's thread keeps running").isTrue();
        } finally {
            done.countDown();
        }
    }

    private static WeakReference<ClassLoader> startLibraryThreadAndRelease(
            java.util.concurrent.CountDownLatch done, AtomicReference<Thread> library)
            throws Exception {
        Runnable waits =
                () -> {
                    try {
                        done.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                };
        try (ChildFirstClassLoader loader = jobLoader()) {
            Thread thread = (Thread) jobCode(loader).apply(waits);
            library.set(thread);
            assertThat(thread.getContextClassLoader()).isSameAs(loader);
            releaseIn(loader);
            assertThat(thread.getContextClassLoader()).isNotSameAs(loader);
            return new WeakReference<>(loader);
        }
    }

    /**
     * A child-first job class loader over SlideStream's classes, the test fixtures and {@code
     * libraries}, as Flink makes one per job.
     */
    private static ChildFirstClassLoader jobLoader(URL... libraries) {
        URL classes =
                JobClassLoaderCleanup.class.getProtectionDomain().getCodeSource().getLocation();
        URL fixtures = JobCode.class.getProtectionDomain().getCodeSource().getLocation();
        URL[] urls = new URL[libraries.length + 2];
        urls[0] = classes;
        urls[1] = fixtures;
        System.arraycopy(libraries, 0, urls, 2, libraries.length);
        return new ChildFirstClassLoader(
                urls,
                JobClassLoaderCleanupTest.class.getClassLoader(),
                new String[] {"org.slf4j.", "org.apache.logging.", "org.junit.", "org.assertj."},
                error -> {});
    }

    @SuppressWarnings("unchecked")
    private static java.util.function.Function<Object, Object> jobCode(ClassLoader loader)
            throws Exception {
        Class<?> type = Class.forName(JobCode.class.getName(), true, loader);
        assertThat(type.getClassLoader()).isSameAs(loader);
        return (java.util.function.Function<Object, Object>)
                type.getDeclaredConstructor().newInstance();
    }

    /** Live threads whose runnable the class loader {@code job} defined. */
    private static java.util.List<String> threadsRunning(ClassLoader job) {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            Object target = JobClassLoaderCleanup.field(t, Thread.class, "target");
            if (t.isAlive() && target != null && target.getClass().getClassLoader() == job) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /** Runs the cleanup as the job's own copy of it does: loaded by {@code loader}. */
    private static void releaseIn(ClassLoader loader) throws Exception {
        Method release =
                Class.forName(JobClassLoaderCleanup.class.getName(), true, loader)
                        .getDeclaredMethod("release");
        release.setAccessible(true);
        release.invoke(null);
    }

    private static void awaitCollected(WeakReference<ClassLoader> job) {
        await("the job class loader collected after the cleanup")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(
                        () -> {
                            System.gc();
                            return job.get() == null;
                        });
    }
}
