package io.slidestream.tiling;

import io.slidestream.errors.SlideFailures;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.slide.SlideOpener;
import io.slidestream.types.SlideStreamTypes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns each announced slide into its tile tasks: opens the slide (only under the allowed roots),
 * resolves its resolution, finds the tissue and plans the grid, then emits one small {@link
 * TileTask} per tissue tile (no pixels; they are rebalanced to the readers downstream).
 *
 * <p>A slide that cannot be planned - missing, not a slide, corrupt, outside the allowed roots,
 * unknown resolution, or without tissue ({@code NO_TISSUE}) - goes to the {@link #FAILED} side
 * output as a {@link SlideFailed} with stage {@code plan}; the job goes on with the next slide.
 *
 * <p>Stateless: after a restore the source replays the event and the slide is planned again, which
 * gives the same tasks (planning is deterministic).
 */
public class SlideTiler extends ProcessFunction<SlideScanned, TileTask> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SlideTiler.class);

    public static final String UID = "plan-slides";
    public static final String NAME = "Plan slides: tissue -> tile tasks";

    public static final OutputTag<SlideFailed> FAILED =
            new OutputTag<>("slide-plan-failed", SlideStreamTypes.SLIDE_FAILED);

    private final TilingConfig tiling;
    // Paths are not serializable: kept as strings, the opener is built in open().
    private final List<String> allowedRoots;
    private final Double defaultMpp;

    private transient SlideOpener opener;
    private transient Counter planned;
    private transient Counter failed;

    /**
     * @param allowedRoots folders slides may be opened from; empty allows any path
     * @param defaultMpp resolution for slides that record none, or null to fail them
     */
    public SlideTiler(TilingConfig tiling, List<String> allowedRoots, Double defaultMpp) {
        this.tiling = tiling;
        this.allowedRoots = new ArrayList<>(allowedRoots);
        this.defaultMpp = defaultMpp;
    }

    @Override
    public void open(OpenContext context) {
        if (allowedRoots.isEmpty()) {
            opener = SlideOpener.unrestricted();
        } else {
            SlideOpener.Builder b = SlideOpener.builder();
            allowedRoots.forEach(root -> b.allowedRoot(Path.of(root)));
            opener = b.build();
        }
        planned = getRuntimeContext().getMetricGroup().counter("slidesPlanned");
        failed = getRuntimeContext().getMetricGroup().counter("slidesFailedToPlan");
    }

    @Override
    public void processElement(SlideScanned event, Context ctx, Collector<TileTask> out) {
        String slideId = event.getSlideId();
        String uri = event.getUri();
        TilePlan plan;
        try {
            OptionalDouble fallback =
                    defaultMpp == null ? OptionalDouble.empty() : OptionalDouble.of(defaultMpp);
            plan = PlannedSlide.plan(opener, uri, tiling, fallback).plan();
            if (plan.outcome() == TilePlan.Outcome.NO_TISSUE) {
                throw plan.noTissueError();
            }
        } catch (RuntimeException e) {
            failed.inc();
            LOG.warn("Slide {} ({}) cannot be planned: {}", slideId, uri, e.getMessage());
            ctx.output(
                    FAILED,
                    SlideFailures.of(
                            slideId,
                            uri,
                            e,
                            SlideFailures.STAGE_PLAN,
                            ctx.timerService().currentProcessingTime()));
            return;
        }
        planned.inc();
        LOG.info(
                "Slide {}: {} tissue tiles of {} px at level {}",
                slideId,
                plan.tissueTileCount(),
                plan.readPx(),
                plan.readLevel());
        long scannedAt = event.getScannedAt().toEpochMilli();
        for (int i = 0; i < plan.tissueTileCount(); i++) {
            out.collect(plan.tileTask(i, slideId, uri, scannedAt));
        }
    }
}
