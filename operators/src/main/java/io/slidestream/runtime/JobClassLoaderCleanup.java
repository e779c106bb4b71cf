package io.slidestream.runtime;

import java.lang.reflect.Field;
import java.security.AccessControlContext;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a session cluster run job after job: when a SlideStream job leaves a TaskManager, Flink
 * releases the job's class loader, and this cleanup removes every reference from outside the job
 * that would keep that class loader - and so all of the job's classes (tens of MiB of metaspace per
 * job) - alive. Registered once per job and TaskManager through {@link
 * RuntimeContext#registerUserCodeClassLoaderReleaseHookIfAbsent} by {@link #register}, which every
 * SlideStream operator calls in {@code open}.
 *
 * <p>What pins a job's class loader, found with heap dumps of a TaskManager after cancelled jobs
 * (and what the cleanup does about it), in order:
 *
 * <ol>
 *   <li>Work registered here by the job's own code ({@link #onRelease}): the shared inference
 *       engines, which stay loaded across failovers and close only now.
 *   <li>Thread pools of libraries in the job jar that live in static fields and never end:
 *       Iceberg's worker pools and REST metrics reporter, the AWS SDK's idle-connection reaper and
 *       response timeout scheduler. Any live thread whose pool's thread factory was loaded by the
 *       job's class loader belongs to the job: its pool is shut down (a scheduled pool after its
 *       pending one-shot tasks: gRPC's destroyer still has to end the Milvus client's event loops).
 *   <li>Other live threads of the job's classes (Hadoop's statistics cleaner, Netty's global
 *       executor): interrupted, which ends them; a Netty event loop (the Milvus client's, when its
 *       channel was not closed) has its executor shut down instead, since it ignores interrupts.
 *   <li>Thread-local values of job classes left on threads that outlive the job (Avro's name
 *       validator on the JobManager thread that ran {@code main()}): cleared.
 *   <li>JVM shutdown hooks the job's libraries added (Guava's exiting executors inside Iceberg add
 *       one per pool): removed.
 *   <li>Static caches of the TaskManager's own libraries keyed by the job's classes: JNA keeps
 *       every library interface in maps whose values refer to the key again, so their weak keys
 *       never die; the job's entries are removed, and the job's classes with direct-mapped native
 *       methods (held by JNI global references in JNA's native code) are unregistered.
 *   <li>Long-lived threads of the TaskManager's own libraries that were started while a job's code
 *       was on the stack and so inherited its context class loader and access-control context
 *       (JNA's cleaner thread and ONNX Runtime's shutdown hook, both in the cluster's lib/): given
 *       the parent class loader and a clean context instead, since they serve later jobs too.
 * </ol>
 *
 * <p>The same cleanup runs in the JobManager for the class loader of the job's {@code main()}
 * ({@link #releaseAfterMain}).
 *
 * <p>Only a dedicated job class loader is cleaned: on a MiniCluster (tests, {@code demo}) the job's
 * classes share the application class loader with Flink itself, and then only step 1 runs.
 * Reflection into {@code java.lang} and {@code java.security} needs {@code --add-opens
 * java.base/java.lang=ALL-UNNAMED} and {@code --add-opens java.base/java.security=ALL-UNNAMED},
 * which {@code deploy/conf/flink-config.yaml} sets; without them steps 5 and 6 do what they can and
 * say so in the log.
 */
public final class JobClassLoaderCleanup {
    /** How long a release waits for the job's threads and pools it ended. */
    static final long ENDING_MILLIS = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(JobClassLoaderCleanup.class);

    /** The name under which the hook is registered (once per job and TaskManager). */
    public static final String HOOK_NAME = "slidestream-class-loader-cleanup";

    private static final List<Runnable> ON_RELEASE = new CopyOnWriteArrayList<>();

    private JobClassLoaderCleanup() {}

    /** Registers the cleanup for the job of {@code context} (idempotent). */
    public static void register(RuntimeContext context) {
        context.registerUserCodeClassLoaderReleaseHookIfAbsent(
                HOOK_NAME, JobClassLoaderCleanup::release);
    }

    /** Runs {@code action} when the job's class loader is released, before everything else. */
    public static void onRelease(Runnable action) {
        if (!ON_RELEASE.contains(action)) {
            ON_RELEASE.add(action);
        }
    }

    /**
     * Runs the cleanup for the class loader of the job's {@code main()} once it has submitted the
     * job: on a session cluster {@code main()} runs inside the JobManager (REST {@code /jars/run})
     * in a class loader of its own, and whatever it started there (the catalog's HTTP and S3
     * clients, the JDBC driver registration) would otherwise keep that class loader for the life of
     * the JobManager. Does nothing where {@code main()} shares the application class loader ({@code
     * bin/slidestream run}, tests).
     */
    public static void releaseAfterMain() {
        release();
    }

    /** The cleanup itself. */
    static void release() {
        Report report = releaseAll();
        if (report != null) {
            finish(report);
        }
    }

    /**
     * The same, with the wait for the job's threads to end on a thread of its own: for the
     * JobManager, where this runs as one operator coordinator closes and the job's other
     * coordinators (a Kafka source's enumerator and its admin client thread) close only after it
     * returns, so waiting here for their threads would hold the JobMaster, and the release of the
     * job's slots, for the whole wait.
     */
    static void releaseWithoutWaiting() {
        Report report = releaseAll();
        if (report != null) {
            Thread waiter = new Thread(() -> finish(report), "slidestream-release-wait");
            waiter.setDaemon(true);
            waiter.start();
        }
    }

    /** Every step but the wait; null where the job shares Flink's class loader. */
    private static Report releaseAll() {
        for (Runnable action : ON_RELEASE) {
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.warn("A release action failed: {}", e.toString(), e);
            }
        }
        ClassLoader job = JobClassLoaderCleanup.class.getClassLoader();
        if (job == RuntimeContext.class.getClassLoader()
                || job == ClassLoader.getSystemClassLoader()) {
            // MiniCluster: the job shares Flink's class loader; nothing to unpin.
            return null;
        }
        Report report = new Report();
        closeAwsConnectionManagers(job, report);
        forgetJnaInterfaces(job, report);
        startHadoopCleanerNow(job);
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread == Thread.currentThread()) {
                clearThreadLocals(thread, "threadLocals", job, report);
                clearThreadLocals(thread, "inheritableThreadLocals", job, report);
                continue;
            }
            release(thread, job, report);
        }
        return report;
    }

    /** Waits for the threads and pools told to end, then removes the job's shutdown hooks. */
    private static void finish(Report report) {
        ClassLoader job = JobClassLoaderCleanup.class.getClassLoader();
        awaitEnding(report);
        removeShutdownHooks(job, report);
        LOG.info("Released SlideStream's class loader {}: {}", job, report);
    }

    /**
     * Hadoop starts its statistics cleaner thread when {@code FileSystem.Statistics} is first
     * initialised. A task still finishing after the release (an Iceberg worker writing through
     * {@code HadoopFileIO}) could do that later and start a thread that nothing stops and whose
     * frames pin this class loader. Initialising the class here starts the thread now, so the sweep
     * below ends it, and no later use can start another (a class initialises once).
     */
    private static void startHadoopCleanerNow(ClassLoader job) {
        try {
            Class.forName("org.apache.hadoop.fs.FileSystem$Statistics", true, job);
        } catch (ClassNotFoundException | LinkageError e) {
            // No Hadoop in this job: nothing to start.
        }
    }

    /**
     * The AWS SDK's idle-connection reaper is a static singleton whose task ignores interrupts and
     * ends only when no HTTP connection manager is registered any more; S3 clients that the job's
     * libraries never closed (Iceberg's sink leaves some on cancellation) keep theirs registered.
     * Deregisters and shuts down every one of them.
     */
    private static void closeAwsConnectionManagers(ClassLoader job, Report report) {
        try {
            Class<?> reaperType =
                    Class.forName(
                            "software.amazon.awssdk.http.apache.internal.conn.IdleConnectionReaper",
                            false,
                            job);
            if (reaperType.getClassLoader() != job) {
                return;
            }
            Object reaper = reaperType.getMethod("getInstance").invoke(null);
            Object managers = field(reaper, reaperType, "connectionManagers");
            if (!(managers instanceof Map<?, ?> map)) {
                return;
            }
            for (Object manager : new ArrayList<>(map.keySet())) {
                for (var method : reaperType.getMethods()) {
                    if (method.getName().equals("deregisterConnectionManager")) {
                        method.invoke(reaper, manager);
                    }
                }
                manager.getClass().getMethod("shutdown").invoke(manager);
                report.pools.add("aws-connection-manager");
            }
        } catch (ClassNotFoundException notInTheJar) {
            // no AWS SDK in this job
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Could not close the AWS SDK's HTTP connection managers: {}", e.toString());
        }
    }

    /**
     * JNA (in the cluster's lib/) caches every library interface it loads in static weak maps whose
     * values name the interface class again ({@code Native.typeOptions}: "enclosing-library"), so
     * the weak key never dies and the interface - with its class loader - stays forever. Removes
     * the job's classes from JNA's static class-keyed maps.
     */
    private static void forgetJnaInterfaces(ClassLoader job, Report report) {
        for (String type : List.of("com.sun.jna.Native", "com.sun.jna.Structure")) {
            Class<?> jna;
            try {
                jna = Class.forName(type, false, job);
            } catch (ClassNotFoundException | LinkageError noJna) {
                continue;
            }
            if (jna.getClassLoader() == job) {
                continue; // JNA in the job jar goes with the job
            }
            if (type.equals("com.sun.jna.Native")) {
                unregisterDirectMappings(jna, job, report);
            }
            for (Field field : jna.getDeclaredFields()) {
                if (!java.lang.reflect.Modifier.isStatic(field.getModifiers())
                        || !Map.class.isAssignableFrom(field.getType())) {
                    continue;
                }
                try {
                    field.setAccessible(true);
                    Map<?, ?> map = (Map<?, ?>) field.get(null);
                    if (map == null) {
                        continue;
                    }
                    synchronized (map) {
                        if (map.keySet()
                                .removeIf(k -> k instanceof Class<?> c && loadedBy(c, job))) {
                            report.caches.add(jna.getSimpleName() + "." + field.getName());
                        }
                    }
                } catch (ReflectiveOperationException | RuntimeException e) {
                    LOG.warn(
                            "Could not clear JNA's {}.{}: {}", type, field.getName(), e.toString());
                }
            }
        }
    }

    /**
     * A class with direct-mapped native methods ({@code Native.register}, as {@code TurboJpeg}
     * does) is held by JNI global references to its methods inside JNA's native code; only {@code
     * Native.unregister(Class)} frees them, so the job's registered classes are unregistered before
     * JNA's maps forget them.
     */
    private static void unregisterDirectMappings(
            Class<?> nativeType, ClassLoader job, Report report) {
        try {
            Field field = nativeType.getDeclaredField("registeredClasses");
            field.setAccessible(true);
            Map<?, ?> registered = (Map<?, ?>) field.get(null);
            List<Class<?>> classes = new ArrayList<>();
            synchronized (registered) {
                for (Object key : registered.keySet()) {
                    if (key instanceof Class<?> c && loadedBy(c, job)) {
                        classes.add(c);
                    }
                }
            }
            java.lang.reflect.Method unregister = nativeType.getMethod("unregister", Class.class);
            for (Class<?> c : classes) {
                unregister.invoke(null, c);
                report.caches.add("Native.unregister(" + c.getName() + ")");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Could not unregister the job's JNA direct mappings: {}", e.toString());
        }
    }

    private static void release(Thread thread, ClassLoader job, Report report) {
        clearThreadLocals(thread, "threadLocals", job, report);
        clearThreadLocals(thread, "inheritableThreadLocals", job, report);
        Object target = field(thread, Thread.class, "target");
        ExecutorService pool = poolOf(target, job);
        if (pool != null) {
            if (!pool.isShutdown()) {
                if (pool instanceof ScheduledThreadPoolExecutor) {
                    // Delayed one-shot tasks still run, periodic ones are dropped: gRPC's shared
                    // resource destroyer shuts the Milvus client's Netty event loops down a second
                    // after the last channel closed, and only that ends those threads. Awaited
                    // below, while the job's classes can still be loaded.
                    pool.shutdown();
                    report.draining.add(pool);
                } else {
                    pool.shutdownNow();
                }
                report.pools.add(thread.getName());
            }
            return;
        }
        if (loadedBy(thread.getClass(), job)
                || (target != null && loadedBy(target.getClass(), job))) {
            // A Netty event loop ignores interrupts: it ends only when its executor is shut down
            // (a Milvus client whose channel was not closed before the job went away, or closed
            // less than a second ago, before gRPC's destroyer ran).
            if (!shutDownEventLoop(target, 3)) {
                thread.interrupt();
            }
            report.interrupted.add(thread.getName());
            report.ending.add(thread);
            return;
        }
        if (detach(thread, job)) {
            report.detached.add(thread.getName());
        }
    }

    /**
     * Waits, at most {@value #ENDING_MILLIS} ms in all, for the pools shut down and the threads
     * told to end above. They must be gone before Flink closes the job's class loader: a Netty
     * event loop still shutting down then fails to load the classes its shutdown needs, dies of
     * that error half-way, and the TaskManager kept that job's class loader for good (seen as one
     * class loader left after about one submission in twenty on the session cluster).
     */
    private static void awaitEnding(Report report) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ENDING_MILLIS);
        try {
            for (ExecutorService pool : report.draining) {
                pool.awaitTermination(
                        Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            for (Thread thread : report.ending) {
                TimeUnit.NANOSECONDS.timedJoin(thread, Math.max(1, deadline - System.nanoTime()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Thread thread : report.ending) {
            if (thread.isAlive()) {
                LOG.warn(
                        "Thread {} of the job has not ended {} ms after the release",
                        thread.getName(),
                        ENDING_MILLIS);
            }
        }
    }

    /**
     * Finds, within {@code depth} fields of {@code target}, a Netty event executor (an object with
     * a public {@code shutdownGracefully(long, long, TimeUnit)}) and shuts it down at once, without
     * Netty's quiet period; whether one was found. Found by shape, not by class name: each library
     * shades Netty under its own package.
     */
    static boolean shutDownEventLoop(Object target, int depth) {
        if (target == null || depth < 0) {
            return false;
        }
        try {
            java.lang.reflect.Method shutdown =
                    target.getClass()
                            .getMethod(
                                    "shutdownGracefully", long.class, long.class, TimeUnit.class);
            shutdown.setAccessible(true);
            shutdown.invoke(target, 0L, 1L, TimeUnit.SECONDS);
            return true;
        } catch (NoSuchMethodException e) {
            // not an executor: look inside
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("Could not shut down event loop {}: {}", target.getClass(), e.toString());
            return false;
        }
        for (Class<?> type = target.getClass();
                type != null && type != Object.class;
                type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (java.lang.reflect.Modifier.isStatic(field.getModifiers())
                        || field.getType().isPrimitive()) {
                    continue;
                }
                Object value = field(target, type, field.getName());
                if (value == null
                        || value.getClass().isArray()
                        || value.getClass().getName().startsWith("java.")) {
                    continue;
                }
                if (shutDownEventLoop(value, depth - 1)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The pool of a pool worker whose thread factory the job's class loader defined, or null. */
    private static ExecutorService poolOf(Object target, ClassLoader job) {
        if (target == null
                || !target.getClass()
                        .getName()
                        .equals("java.util.concurrent.ThreadPoolExecutor$Worker")) {
            return null;
        }
        Object pool = field(target, target.getClass(), "this$0");
        if (pool instanceof ThreadPoolExecutor executor
                && loadedBy(executor.getThreadFactory().getClass(), job)) {
            return executor;
        }
        return null;
    }

    /**
     * Gives a thread of the TaskManager's own libraries the job loader's parent as context class
     * loader and drops an inherited access-control context that names the job's classes.
     */
    private static boolean detach(Thread thread, ClassLoader job) {
        boolean contextIsJob = false;
        ClassLoader context = thread.getContextClassLoader();
        if (context != null && belongsTo(context, job)) {
            thread.setContextClassLoader(job.getParent());
            contextIsJob = true;
        }
        Object inherited = field(thread, Thread.class, "inheritedAccessControlContext");
        Boolean names = inherited == null ? Boolean.FALSE : namesLoader(inherited, job);
        // Without access to AccessControlContext's domains (no add-opens of java.security), a
        // thread that had the job's context loader is assumed to carry its domains too.
        if (Boolean.TRUE.equals(names) || (names == null && contextIsJob)) {
            setField(
                    thread,
                    Thread.class,
                    "inheritedAccessControlContext",
                    new AccessControlContext(new ProtectionDomain[0]));
            return true;
        }
        return contextIsJob;
    }

    /** Shutdown hooks added by the job's libraries, or carrying its loader: removed or detached. */
    @SuppressWarnings("unchecked")
    private static void removeShutdownHooks(ClassLoader job, Report report) {
        Map<Thread, Thread> hooks;
        try {
            Class<?> type = Class.forName("java.lang.ApplicationShutdownHooks");
            Field field = type.getDeclaredField("hooks");
            field.setAccessible(true);
            hooks = (Map<Thread, Thread>) field.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn(
                    "Cannot inspect the JVM's shutdown hooks ({}); add --add-opens"
                            + " java.base/java.lang=ALL-UNNAMED to env.java.opts.all so that"
                            + " cancelled jobs do not stay in memory",
                    e.toString());
            return;
        }
        List<Thread> snapshot;
        synchronized (Class.class) {
            snapshot = hooks == null ? List.of() : new ArrayList<>(hooks.keySet());
        }
        for (Thread hook : snapshot) {
            Object target = field(hook, Thread.class, "target");
            if (loadedBy(hook.getClass(), job)
                    || (target != null && loadedBy(target.getClass(), job))) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                    report.hooks.add(hook.getName());
                } catch (IllegalStateException shuttingDown) {
                    return;
                }
            } else if (detach(hook, job)) {
                report.detached.add(hook.getName());
            }
        }
    }

    /**
     * Clears the entries of a thread's thread-local map whose key or value is of a job class (for
     * example Avro's name validator, which the job's code leaves on the JobManager thread that ran
     * {@code main()}): the thread outlives the job, and the entry's value pins the job's class
     * loader through its class. Done the way servlet containers do it on undeploy: the value of the
     * entry is dropped and its key cleared, which the map then treats as stale.
     */
    private static void clearThreadLocals(
            Thread thread, String mapField, ClassLoader job, Report report) {
        Object map = field(thread, Thread.class, mapField);
        if (map == null) {
            return;
        }
        Object table = field(map, map.getClass(), "table");
        if (!(table instanceof Object[] entries)) {
            return;
        }
        for (Object entry : entries) {
            if (!(entry instanceof java.lang.ref.Reference<?> ref)) {
                continue;
            }
            Object key = ref.get();
            Object value = field(entry, entry.getClass(), "value");
            boolean ofJob =
                    (key != null && loadedBy(key.getClass(), job))
                            || (value != null && loadedBy(value.getClass(), job));
            if (ofJob && setField(entry, entry.getClass(), "value", null)) {
                ref.clear();
                report.threadLocals.add(
                        thread.getName()
                                + ":"
                                + (value != null ? value.getClass() : key.getClass()).getName());
            }
        }
    }

    /** Whether {@code type} was defined by the job's class loader. */
    private static boolean loadedBy(Class<?> type, ClassLoader job) {
        return type.getClassLoader() == job;
    }

    /** Whether {@code loader} is the job's class loader or Flink's wrapper around it. */
    private static boolean belongsTo(ClassLoader loader, ClassLoader job) {
        if (loader == job) {
            return true;
        }
        try {
            // Flink's SafetyNetWrapperClassLoader delegates to the job's loader.
            return Class.forName(JobClassLoaderCleanup.class.getName(), false, loader)
                    == JobClassLoaderCleanup.class;
        } catch (ClassNotFoundException | LinkageError | IllegalStateException e) {
            return false;
        }
    }

    /**
     * Whether an AccessControlContext holds a ProtectionDomain of the job's class loader; null when
     * its domains cannot be read.
     */
    private static Boolean namesLoader(Object accessControlContext, ClassLoader job) {
        Object domains;
        try {
            Field field = AccessControlContext.class.getDeclaredField("context");
            field.setAccessible(true);
            domains = field.get(accessControlContext);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
        if (domains instanceof ProtectionDomain[] array) {
            for (ProtectionDomain domain : array) {
                if (domain != null
                        && domain.getClassLoader() != null
                        && belongsTo(domain.getClassLoader(), job)) {
                    return true;
                }
            }
        }
        return false;
    }

    static Object field(Object owner, Class<?> type, String name) {
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return field.get(owner);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static boolean setField(Object owner, Class<?> type, String name, Object value) {
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            field.set(owner, value);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn(
                    "Cannot reset {}.{} of {}: {}",
                    type.getSimpleName(),
                    name,
                    owner,
                    e.toString());
            return false;
        }
    }

    /** What one cleanup did, for its log line. */
    private static final class Report {
        final List<String> pools = new ArrayList<>();
        final List<String> interrupted = new ArrayList<>();
        final List<Thread> ending = new ArrayList<>();
        final List<ExecutorService> draining = new ArrayList<>();
        final List<String> hooks = new ArrayList<>();
        final List<String> detached = new ArrayList<>();
        final List<String> caches = new ArrayList<>();
        final List<String> threadLocals = new ArrayList<>();

        @Override
        public String toString() {
            return "thread pools shut down "
                    + pools
                    + ", threads interrupted "
                    + interrupted
                    + ", shutdown hooks removed "
                    + hooks
                    + ", threads detached "
                    + detached
                    + ", library caches cleared "
                    + caches
                    + ", thread-locals cleared "
                    + threadLocals;
        }
    }
}
