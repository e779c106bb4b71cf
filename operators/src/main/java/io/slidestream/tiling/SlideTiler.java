package io.slidestream.tiling;

import io.slidestream.errors.SlideFailures;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.ModelCard;
import io.slidestream.runtime.JobClassLoaderCleanup;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.schemas.serde.ForgetRequests;
import io.slidestream.slide.SlideOpener;
import io.slidestream.slide.SlideReader;
import io.slidestream.types.SlideStreamTypes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns each announced slide into its tile tasks, keyed by slide id: opens the slide (only under
 * the allowed roots), resolves its resolution, finds the tissue and plans the grid once, then emits
 * one small {@link TileTask} per tissue tile (no pixels; they are rebalanced to the readers
 * downstream), {@code tiling.emit-chunk} tasks at a time, in plan order.
 *
 * <p><b>Why chunks.</b> Emitting a whole slide (up to 15,000 tasks) inside one {@code
 * processElement} blocks on backpressure until the readers and the embedder have taken nearly all
 * of it, and a checkpoint barrier cannot pass the operator meanwhile: checkpoints would take as
 * long as embedding a slide. Instead the first chunk is emitted when the slide is planned and each
 * further chunk from a processing-time timer, so the task thread returns to the mailbox between
 * chunks and barriers (and other slides' events) are processed there.
 *
 * <p><b>Scans, duplicates, re-scans.</b> A scan is a slide id with its {@code scanned_at}. The
 * planner remembers the latest scan of every slide for {@code tiling.scan-memory} (30 days by
 * default): an event for that scan again - a duplicate, a burst of them, a producer's retry - is
 * ignored (counted as {@code scansDuplicated}), so the stores see each scan planned once; an event
 * for an older scan arriving late is ignored too ({@code scansSuperseded}); a newer scan is planned
 * and supersedes the older one, whose tasks not yet emitted are dropped. A scan that could not be
 * planned is remembered as well: its duplicates do not fill the dead letter again, while a re-scan
 * of the slide is planned afresh.
 *
 * <p><b>Forgetting.</b> A {@linkplain ForgetRequests request to forget} a slide (the tombstone
 * {@code slidestream forget} writes) clears everything this function holds of it - scan memory,
 * footprint, a scan waiting or being emitted - so nothing of the slide stays in the planner's state
 * or its later checkpoints, and any later announcement of it is planned as new (counted as {@code
 * slidesForgotten}); a {@linkplain TileEmbedding#forgetting forget marker} on {@link #REMOVED}
 * tells the operators downstream to do the same.
 *
 * <p><b>Removals.</b> The planner also remembers which tile keys the latest planned scan has (a
 * {@link ScanFootprint}, same TTL). When a newer scan is planned, every key of the earlier scan
 * that the new plan lacks goes to the {@link #REMOVED} side output as a {@linkplain
 * TileEmbedding#removal removal} with the job's model id (from {@code inference.model-path}) and
 * the new scan's {@code scanned_at}; the tile sinks delete those keys, and {@code LatestScanGate}
 * downstream drops whatever of the earlier scan is still in flight. A newer scan that cannot be
 * planned removes nothing: the stores keep the earlier scan's tiles and the failure goes to the
 * dead letter. A re-scan arriving after the memory expired removes nothing either (the new tiles
 * still replace the same keys).
 *
 * <p><b>Admission.</b> Each subtask emits tasks for at most {@code tiling.max-active-slides} slides
 * at a time. Every new scan draws a ticket from the subtask's counter; it starts when its ticket is
 * below the number of slides that have released their slot (handed on their last task, or failed to
 * plan) plus that bound, otherwise it waits - the event alone in keyed state, planned only when
 * admitted - and checks again every {@value #ADMISSION_POLL_MILLIS} ms on a timer. So a backlog of
 * hundreds of slides is planned and emitted in arrival order, a few at a time: a slide's tiles are
 * interleaved with those of at most {@code max-active-slides - 1} others per subtask, and the slide
 * window's timeout, which runs from a slide's first tile, covers the slide's own work rather than
 * the backlog's. A re-scan of a slide that is waiting takes its place in the queue; one of a slide
 * being emitted takes over its slot. The two counters are operator state; restored with another
 * parallelism, the waiting slides hold tickets of several old subtasks, so each new subtask admits
 * all of them at once.
 *
 * <p><b>Tile credits.</b> Run by {@link SlidePlannerOperator#factory}, the planner emits a task
 * only with a credit from the job's budget ({@code tiling.max-tiles-in-flight}, see {@link
 * TileCreditCoordinator}); a chunk that got fewer credits than tasks emits what it got and looks
 * again after {@value #CREDIT_POLL_MILLIS} ms, so tasks wait here, in plan order, rather than in
 * the network buffers in front of the readers.
 *
 * <p><b>State and timers</b>: per slide, the latest scan's {@code scanned_at} and the latest
 * planned scan's footprint (both with the TTL above); only while it waits for admission, its event
 * and ticket (with a poll timer); only while a scan's tasks are being emitted, the remaining plan
 * as a {@link PendingTileTasks} (written once) and the index of the next task (updated per chunk),
 * plus one processing-time timer for the next chunk. The latter two are cleared with the last
 * chunk, when no timer is left either.
 *
 * <p><b>Recovery.</b> A restore mid-slide continues from the stored index: the tasks emitted after
 * the checkpoint are emitted again, which Flink's own state downstream forgets with the restore and
 * the slide window dedupes by {@code tileIndex} anyway; external sinks see those replays as usual
 * (Milvus upserts by deterministic key, Iceberg and Kafka commit on checkpoints). The event itself
 * is not replayed by the source (its offset is in the checkpoint), which is why the plan lives in
 * state rather than being planned again.
 *
 * <p><b>End of input</b> (a {@code stop --drain}, a bounded source): no timer fires any more, so
 * {@link SlidePlannerOperator}, which runs this function in the job, emits the rest of every slide
 * being emitted at once; slides waiting for admission stay in state.
 *
 * <p><b>Failures.</b> A slide that cannot be planned - missing, not a slide, corrupt, outside the
 * allowed roots, unknown resolution, without tissue ({@code NO_TISSUE}), or not planned within
 * {@code tiling.plan-timeout} ({@code TIMEOUT}: planning runs on a thread of its own, and one stuck
 * in a read is left behind, counted as {@code planThreadsAbandoned}) - goes to the {@link #FAILED}
 * side output as a {@link SlideFailed} with stage {@code plan}, leaving no state; the job goes on
 * with the next slide.
 */
public class SlideTiler extends KeyedProcessFunction<String, SlideScanned, TileTask>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SlideTiler.class);

    public static final String UID = "plan-slides";
    public static final String NAME = "Plan slides: tissue -> tile tasks";

    /** Name of the state that holds a scan's tasks while they are being emitted. */
    static final String PENDING_STATE = "pending-tile-tasks";

    public static final OutputTag<SlideFailed> FAILED =
            new OutputTag<>("slide-plan-failed", SlideStreamTypes.SLIDE_FAILED);

    /**
     * Tile keys of an earlier scan that the latest scan's plan lacks, and the forget markers of
     * slides erased on request.
     */
    public static final OutputTag<TileEmbedding> REMOVED =
            new OutputTag<>("tiles-removed-by-rescan", TypeInformation.of(TileEmbedding.class));

    /** The state type of a slide's footprint: a POJO, never Kryo. */
    public static final TypeInformation<ScanFootprint> FOOTPRINT_TYPE =
            Types.POJO(ScanFootprint.class);

    /** The state type of a slide's remaining tasks: a POJO, never Kryo. */
    public static final TypeInformation<PendingTileTasks> PENDING_TYPE =
            Types.POJO(PendingTileTasks.class);

    private final TilingConfig tiling;
    // Paths are not serializable: kept as strings, the opener is built in open().
    private final List<String> allowedRoots;
    private final SlideReader slideReader;
    private final Double defaultMpp;
    private final String modelPath;

    /** How often a waiting slide checks whether it may start. */
    static final long ADMISSION_POLL_MILLIS = 100;

    /** How long a slide waits before it looks again for credits it did not get. */
    static final long CREDIT_POLL_MILLIS = 10;

    private transient PlannerCredits credits;
    private transient SlideOpener opener;
    private transient ValueState<SlideScanned> waiting;
    private transient ValueState<Long> waitingTicket;
    private transient ListState<Long> admission;

    /** Admission tickets handed out by this subtask, and slots released (see the class comment). */
    private transient long nextTicket;

    private transient long released;
    private transient String modelId;
    private transient ValueState<ScanFootprint> footprint;
    private transient Counter removedTiles;
    private transient ValueState<PendingTileTasks> pending;
    private transient ValueState<Integer> nextIndex;
    private transient ValueState<Long> latestScan;
    private transient Counter planned;
    private transient Counter failed;
    private transient Counter emitted;
    private transient Counter duplicated;
    private transient Counter superseded;
    private transient Counter forgotten;
    private transient Counter abandonedPlans;
    private transient ExecutorService planner;

    /**
     * @param allowedRoots folders slides may be opened from; empty allows any path
     * @param slideReader how regions (the tissue mask's level) are read ({@code slides.reader})
     * @param defaultMpp resolution for slides that record none, or null to fail them
     * @param modelPath the job's ONNX model, whose id the removals carry (read only when a re-scan
     *     removes tiles)
     */
    public SlideTiler(
            TilingConfig tiling,
            List<String> allowedRoots,
            SlideReader slideReader,
            Double defaultMpp,
            Path modelPath) {
        this.tiling = tiling;
        this.allowedRoots = new ArrayList<>(allowedRoots);
        this.slideReader = slideReader;
        this.defaultMpp = defaultMpp;
        this.modelPath = modelPath.toString();
    }

    @Override
    public void open(OpenContext context) {
        JobClassLoaderCleanup.register(getRuntimeContext());
        opener = SlideOpener.forRoots(allowedRoots, slideReader);
        planner = newPlanner();
        pending =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>(PENDING_STATE, PENDING_TYPE));
        nextIndex =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("next-tile-index", Types.INT));
        planned = getRuntimeContext().getMetricGroup().counter("slidesPlanned");
        failed = getRuntimeContext().getMetricGroup().counter("slidesFailedToPlan");
        emitted = getRuntimeContext().getMetricGroup().counter("tileTasksEmitted");
        StateTtlConfig memory =
                StateTtlConfig.newBuilder(tiling.scanMemory())
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        .build();
        ValueStateDescriptor<Long> latest = new ValueStateDescriptor<>("latest-scan", Types.LONG);
        latest.enableTimeToLive(memory);
        latestScan = getRuntimeContext().getState(latest);
        ValueStateDescriptor<ScanFootprint> footprints =
                new ValueStateDescriptor<>("latest-scan-footprint", FOOTPRINT_TYPE);
        footprints.enableTimeToLive(memory);
        footprint = getRuntimeContext().getState(footprints);
        removedTiles = getRuntimeContext().getMetricGroup().counter("tilesRemovedByRescan");
        waiting =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "waiting-scan", SlideStreamTypes.SLIDE_SCANNED));
        waitingTicket =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("waiting-ticket", Types.LONG));
        getRuntimeContext()
                .getMetricGroup()
                .gauge("slidesWaiting", () -> Math.max(0, nextTicket - released - maxActive()));
        getRuntimeContext()
                .getMetricGroup()
                .gauge("slidesActive", () -> Math.min(nextTicket - released, maxActive()));
        duplicated = getRuntimeContext().getMetricGroup().counter("scansDuplicated");
        superseded = getRuntimeContext().getMetricGroup().counter("scansSuperseded");
        forgotten = getRuntimeContext().getMetricGroup().counter("slidesForgotten");
        abandonedPlans = getRuntimeContext().getMetricGroup().counter("planThreadsAbandoned");
    }

    @Override
    public void processElement(SlideScanned event, Context ctx, Collector<TileTask> out)
            throws Exception {
        String slideId = event.getSlideId();
        if (ForgetRequests.is(event)) {
            forget(slideId, ctx);
            return;
        }
        String uri = event.getUri();
        long scannedAt = event.getScannedAt().toEpochMilli();
        Long latest = latestScan.value();
        if (latest != null && scannedAt == latest) {
            duplicated.inc();
            LOG.info(
                    "Slide {} scanned at {} announced again ({}); that scan is planned already,"
                            + " ignoring the duplicate",
                    slideId,
                    event.getScannedAt(),
                    uri);
            return;
        }
        if (latest != null && scannedAt < latest) {
            superseded.inc();
            LOG.warn(
                    "Slide {} scanned at {} ({}) arrived after its newer scan of {}; ignoring the"
                            + " older scan",
                    slideId,
                    event.getScannedAt(),
                    uri,
                    java.time.Instant.ofEpochMilli(latest));
            return;
        }
        latestScan.update(scannedAt);
        if (pending.value() != null) {
            // The slide holds an admission slot: the newer scan takes it over.
            LOG.info(
                    "Slide {}: a newer scan ({}) supersedes the one being emitted ({} of {} tasks"
                            + " so far)",
                    slideId,
                    event.getScannedAt(),
                    nextIndex.value(),
                    pending.value().taskCount());
            pending.clear();
            nextIndex.clear();
            start(event, ctx, out);
            return;
        }
        if (waiting.value() != null) {
            // Still waiting for admission: the newer scan waits in its place.
            waiting.update(event);
            return;
        }
        long ticket = nextTicket++;
        if (admissible(ticket)) {
            start(event, ctx, out);
        } else {
            waiting.update(event);
            waitingTicket.update(ticket);
            pollAdmission(ctx);
        }
    }

    /**
     * Clears all the planner holds of the slide: its scan memory and footprint, and a scan waiting
     * for admission or being emitted (whose slot is released; its tasks already emitted go on). Any
     * later announcement of the slide, a repeat of an erased one too, is then planned as new. A
     * {@linkplain TileEmbedding#forgetting forget marker} goes to {@link #REMOVED}, so that the
     * latest-scan gate and the slide window downstream forget the slide as well.
     */
    private void forget(String slideId, Context ctx) throws Exception {
        boolean admitted = pending.value() != null;
        boolean queued = waiting.value() != null;
        boolean remembered = latestScan.value() != null || footprint.value() != null;
        if (admitted || queued) {
            // A waiting scan's ticket is spent as if it had run, an emitting scan's slot freed.
            release();
        }
        latestScan.clear();
        footprint.clear();
        waiting.clear();
        waitingTicket.clear();
        pending.clear();
        nextIndex.clear();
        ctx.output(REMOVED, TileEmbedding.forgetting(slideId));
        forgotten.inc();
        LOG.info(
                "Slide {} forgotten on request: {}",
                slideId,
                admitted
                        ? "its scan being emitted stopped and its scan memory cleared"
                        : queued
                                ? "its scan waiting for admission dropped and its scan memory"
                                        + " cleared"
                                : remembered ? "its scan memory cleared" : "nothing was held");
    }

    /** Whether the slide with admission ticket {@code ticket} may start now. */
    private boolean admissible(long ticket) {
        return ticket < released + tiling.maxActiveSlides();
    }

    /** A slide that started has handed on its last task, or could not be planned. */
    private void release() {
        released++;
    }

    private void pollAdmission(Context ctx) {
        ctx.timerService()
                .registerProcessingTimeTimer(
                        ctx.timerService().currentProcessingTime() + ADMISSION_POLL_MILLIS);
    }

    /**
     * Plans an admitted scan and emits its first chunk; releases its admission slot when it cannot
     * be planned or has no more tasks.
     */
    private void start(SlideScanned event, Context ctx, Collector<TileTask> out) throws Exception {
        String slideId = event.getSlideId();
        String uri = event.getUri();
        long scannedAt = event.getScannedAt().toEpochMilli();
        long now = ctx.timerService().currentProcessingTime();
        TilePlan plan;
        try {
            OptionalDouble fallback =
                    defaultMpp == null ? OptionalDouble.empty() : OptionalDouble.of(defaultMpp);
            plan = planWithinTimeout(uri, fallback);
            if (plan.outcome() == TilePlan.Outcome.NO_TISSUE) {
                throw plan.noTissueError();
            }
        } catch (RuntimeException e) {
            release();
            failed.inc();
            LOG.warn("Slide {} ({}) cannot be planned: {}", slideId, uri, e.getMessage());
            ctx.output(FAILED, SlideFailures.of(slideId, uri, e, SlideFailures.STAGE_PLAN, now));
            return;
        }
        planned.inc();
        removeWhatTheNewPlanLacks(slideId, ScanFootprint.of(plan), scannedAt, ctx);
        LOG.info(
                "Slide {}: {} tissue tiles of {} px at level {}",
                slideId,
                plan.tissueTileCount(),
                plan.readPx(),
                plan.readLevel());
        PendingTileTasks tasks = PendingTileTasks.of(plan, uri, scannedAt);
        emitFrom(slideId, tasks, 0, false, ctx, out);
    }

    /**
     * Plans {@code uri} on the planning thread and waits for it at most {@code
     * tiling.plan-timeout}. A read that does not return in time (a damaged file, storage that does
     * not answer) cannot be interrupted in native code: its thread is left behind, planning goes on
     * on a new one, and the slide fails with {@code TIMEOUT}.
     */
    private TilePlan planWithinTimeout(String uri, OptionalDouble fallback) {
        Future<TilePlan> planning = planner.submit(() -> plan(uri, fallback));
        try {
            return planning.get(tiling.planTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new SlideStreamException(ErrorCode.INTERNAL, "planning failed", e.getCause());
        } catch (TimeoutException e) {
            planning.cancel(true);
            planner.shutdownNow();
            planner = newPlanner();
            abandonedPlans.inc();
            throw new SlideStreamException(
                    ErrorCode.TIMEOUT,
                    "planning took longer than "
                            + TilingOptions.PLAN_TIMEOUT.key()
                            + " ("
                            + tiling.planTimeout()
                            + "): the slide could not be opened or its tissue level read in time"
                            + " (a damaged file, or storage that does not answer); check the file"
                            + " and announce it again",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlideStreamException(ErrorCode.INTERNAL, "interrupted while planning", e);
        }
    }

    /** Opens {@code uri} and plans its tiles; runs on the planning thread. */
    TilePlan plan(String uri, OptionalDouble fallback) {
        return PlannedSlide.plan(opener, uri, tiling, fallback).plan();
    }

    private ExecutorService newPlanner() {
        String name = "slide-planner-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        return Executors.newSingleThreadExecutor(
                r -> {
                    Thread t = new Thread(r, name);
                    t.setDaemon(true);
                    return t;
                });
    }

    @Override
    public void close() throws Exception {
        if (planner != null) {
            planner.shutdownNow();
        }
        super.close();
    }

    /**
     * Issues a removal for every key of the slide's previous planned scan that {@code next} lacks,
     * and keeps {@code next} as the slide's footprint.
     */
    private void removeWhatTheNewPlanLacks(
            String slideId, ScanFootprint next, long scannedAt, Context ctx) throws Exception {
        ScanFootprint previous = footprint.value();
        footprint.update(next);
        if (previous == null) {
            return;
        }
        String model = modelId();
        int[] count = {0};
        previous.forEachMissingIn(
                next,
                (level, x, y) -> {
                    ctx.output(
                            REMOVED, TileEmbedding.removal(slideId, model, level, x, y, scannedAt));
                    count[0]++;
                });
        removedTiles.inc(count[0]);
        LOG.info(
                "Slide {}: the new scan keeps {} tiles; removing the {} tiles of the earlier scan"
                        + " ({} in all) that it lacks",
                slideId,
                next.tileCount(),
                count[0],
                previous.tileCount());
    }

    private long maxActive() {
        return tiling.maxActiveSlides();
    }

    private String modelId() {
        if (modelId == null) {
            modelId = ModelCard.idOf(Path.of(modelPath));
        }
        return modelId;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TileTask> out)
            throws Exception {
        PendingTileTasks tasks = pending.value();
        Integer next = nextIndex.value();
        if (tasks != null && next != null) {
            emitFrom(ctx.getCurrentKey(), tasks, next, true, ctx, out);
            return;
        }
        SlideScanned queued = waiting.value();
        if (queued == null) {
            return;
        }
        if (admissible(waitingTicket.value())) {
            waiting.clear();
            waitingTicket.clear();
            start(queued, ctx, out);
        } else {
            pollAdmission(ctx);
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        admission.update(
                List.of(
                        (long) getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                        nextTicket,
                        released));
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        admission =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>("admission-tickets", Types.LONG));
        if (!context.isRestored()) {
            return;
        }
        List<Long> values = new ArrayList<>();
        admission.get().forEach(values::add);
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        long highest = 0;
        for (int i = 0; i + 2 < values.size(); i += 3) {
            highest = Math.max(highest, values.get(i + 1));
            if (values.size() == 3L * parallelism && values.get(i) == subtask) {
                nextTicket = values.get(i + 1);
                released = values.get(i + 2);
                return;
            }
        }
        // Rescaled: the waiting slides now on this subtask hold tickets of several old subtasks.
        // Admit every one of them (once more slides than the bound may run side by side) rather
        // than risk one never being admitted.
        LOG.warn(
                "Planner restored with another parallelism: the slides waiting for admission on"
                        + " subtask {} start at once",
                subtask);
        nextTicket = highest;
        released = highest;
    }

    /**
     * Emits every task the current key's scan has left to emit, at once, and releases its slot: the
     * input ended (a drain), so no chunk timer would fire again. A slide waiting for admission
     * stays waiting, in state. Called by {@link SlidePlannerOperator} with the key set.
     */
    void emitRemaining(String slideId, Collector<TileTask> out) throws Exception {
        PendingTileTasks tasks = pending.value();
        Integer next = nextIndex.value();
        if (tasks == null || next == null) {
            return;
        }
        for (int i = next; i < tasks.taskCount(); i++) {
            out.collect(tasks.task(slideId, i));
        }
        emitted.inc(tasks.taskCount() - next);
        pending.clear();
        nextIndex.clear();
        release();
    }

    /**
     * Emits one chunk from task {@code from}, as far as the tile credits reach; then either stores
     * where to go on and registers the timer for the next chunk (sooner when the chunk was whole,
     * later when credits ran short), or clears the slide's state. {@code stored}: the slide's tasks
     * are in state already (written once per slide, only when a chunk leaves some for later).
     */
    private void emitFrom(
            String slideId,
            PendingTileTasks tasks,
            int from,
            boolean stored,
            Context ctx,
            Collector<TileTask> out)
            throws Exception {
        int wanted = (int) Math.min(tiling.emitChunk(), (long) tasks.taskCount() - from);
        int granted = credits().take(wanted);
        int end = from + granted;
        for (int i = from; i < end; i++) {
            out.collect(tasks.task(slideId, i));
        }
        emitted.inc(granted);
        if (end == tasks.taskCount()) {
            pending.clear();
            nextIndex.clear();
            release();
            return;
        }
        if (!stored) {
            pending.update(tasks);
        }
        if (granted > 0 || !stored) {
            nextIndex.update(end);
        }
        // One millisecond ahead rather than "now": the timer service fires every timer that is
        // due in one loop, so a timer due at the current time could run in the same mail and
        // the chunks would again not let a barrier in between.
        long delay = granted == wanted ? 1 : CREDIT_POLL_MILLIS;
        ctx.timerService()
                .registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + delay);
    }

    /** Tile tasks emitted at a time ({@code tiling.emit-chunk}). */
    int emitChunkSize() {
        return tiling.emitChunk();
    }

    /** Uses {@code account} for the tile credits of this subtask (set before {@code open}). */
    void useCredits(PlannerCredits account) {
        this.credits = account;
    }

    private PlannerCredits credits() {
        if (credits == null) {
            credits = PlannerCredits.unlimited();
        }
        return credits;
    }
}
