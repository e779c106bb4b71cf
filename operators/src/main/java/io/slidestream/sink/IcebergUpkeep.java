package io.slidestream.sink;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maintains the three Iceberg tables while the job runs ({@link IcebergMaintenance#maintain}, the
 * same as {@code slidestream maintain} but compacting only once small files gather): every {@code
 * iceberg.maintenance.every-checkpoints} completed checkpoints, on a background thread of its one
 * subtask, so the stream and its checkpoints never wait for it; a checkpoint that completes while a
 * run is still going starts none. It is the tables' only in-job maintainer (the "lock" is its
 * parallelism of one); a {@code maintain} run at the same time loses nothing either, as every
 * rewrite is validated against concurrent commits.
 *
 * <p>Maintenance that fails (the object store or catalog down, a conflict three times over) is
 * logged and counted ({@code icebergMaintenanceFailures}) and tried again at the next turn: the
 * tables are merely less tidy meanwhile, so it never fails the job. Files of a rewrite cut short by
 * a failure or a killed TaskManager are orphans, removed by a later run once older than {@code
 * iceberg.maintenance.orphan-min-age}. Its input (the slide results) only ties it into the graph.
 */
public final class IcebergUpkeep<T> extends AbstractStreamOperator<Void>
        implements OneInputStreamOperator<T, Void> {

    public static final String UID = "iceberg-upkeep";

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IcebergUpkeep.class);

    private final IcebergConfig config;

    private transient ExecutorService worker;
    private transient Future<?> running;
    private transient long checkpointsSinceRun;
    private transient Counter runs;
    private transient Counter failures;
    private transient AtomicLong lastRunMillis;

    private IcebergUpkeep(IcebergConfig config) {
        this.config = config;
    }

    /** Adds the upkeep after {@code anyStream} when {@code config} asks for it. */
    public static <T> void attach(DataStream<T> anyStream, IcebergConfig config) {
        if (config.maintenance().everyCheckpoints() == 0) {
            return;
        }
        anyStream
                .transform("Iceberg upkeep", Types.VOID, new IcebergUpkeep<T>(config))
                .uid(UID)
                .setParallelism(1)
                .setMaxParallelism(1);
    }

    @Override
    public void open() throws Exception {
        super.open();
        worker =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, "slidestream-iceberg-upkeep");
                            t.setDaemon(true);
                            return t;
                        });
        runs = getMetricGroup().counter("icebergMaintenanceRuns");
        failures = getMetricGroup().counter("icebergMaintenanceFailures");
        lastRunMillis = new AtomicLong(-1);
        getMetricGroup().gauge("icebergMaintenanceLastRunMillis", lastRunMillis::get);
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        // The stream only ties the operator into the job graph.
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        checkpointsSinceRun++;
        if (checkpointsSinceRun < config.maintenance().everyCheckpoints()
                || (running != null && !running.isDone())) {
            return;
        }
        checkpointsSinceRun = 0;
        running = worker.submit(this::maintainAll);
    }

    private void maintainAll() {
        long start = System.nanoTime();
        for (String table :
                List.of(config.tilesTable(), config.slidesTable(), config.errorsTable())) {
            try {
                IcebergMaintenance.Report r =
                        IcebergCatalogs.withTable(
                                config,
                                table,
                                t -> IcebergMaintenance.maintain(t, config.maintenance(), false));
                LOG.info(
                        "Maintained {}: data files {} -> {}, delete files {} -> {}, snapshots {}"
                                + " -> {}, {} orphan files removed",
                        table,
                        r.before().dataFiles(),
                        r.after().dataFiles(),
                        r.before().deleteFiles(),
                        r.after().deleteFiles(),
                        r.before().snapshots(),
                        r.after().snapshots(),
                        r.orphansRemoved());
            } catch (RuntimeException e) {
                if (Thread.currentThread().isInterrupted() || interrupted(e)) {
                    LOG.info("Iceberg maintenance of {} stopped: the job is ending", table);
                    return;
                }
                failures.inc();
                LOG.warn(
                        "Maintaining Iceberg table {} failed; it is tried again after {}"
                                + " checkpoints",
                        table,
                        config.maintenance().everyCheckpoints(),
                        e);
            }
        }
        runs.inc();
        lastRunMillis.set(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private static boolean interrupted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException
                    || t instanceof java.nio.channels.ClosedByInterruptException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws Exception {
        try {
            if (worker != null) {
                worker.shutdownNow();
                if (!worker.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("Iceberg maintenance did not stop within 30 s of the job's end");
                }
            }
        } finally {
            super.close();
        }
    }
}
