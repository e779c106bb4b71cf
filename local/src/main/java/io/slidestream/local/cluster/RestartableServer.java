package io.slidestream.local.cluster;

import java.time.Duration;

/**
 * A server of the local cluster that runs as one child process and can be stopped and started again
 * on the same port and data, as the fault tests do with the object store, the catalog and the
 * broker. Subclasses start the process in {@code start()} and hand it to {@link #running}.
 */
abstract class RestartableServer implements AutoCloseable {
    private final Duration stopGrace;
    private ChildProcess process;

    RestartableServer(Duration stopGrace) {
        this.stopGrace = stopGrace;
    }

    /** Starts the process (again), on the same port and data. */
    public abstract void start();

    /** Records the process {@link #start} launched and returns it. */
    protected final synchronized ChildProcess running(ChildProcess started) {
        process = started;
        return started;
    }

    /** Stops the process (SIGTERM, then SIGKILL after the grace period); its data stays. */
    public synchronized void stop() {
        if (process != null) {
            process.stop(stopGrace);
            process = null;
        }
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() {
        stop();
    }
}
