package io.slidestream.tiling;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Configuration keys of the tiling stage: target resolution, tile geometry, tissue threshold and
 * the parameters of the CLAM-style tissue detector, and how many tile tasks are emitted at a time.
 * {@link TilingConfig#from} reads them once and validates them; operators receive the typed {@link
 * TilingConfig}, never these options.
 */
public final class TilingOptions {

    public static final ConfigOption<Double> TARGET_MPP =
            ConfigOptions.key("tiling.target-mpp")
                    .doubleType()
                    .defaultValue(0.5)
                    .withDescription(
                            "Target resolution of a tile in micrometres per pixel (0.5 is 20x,"
                                    + " 0.25 is 40x). Tiles are read from the coarsest pyramid"
                                    + " level that is at least this fine and resized to it.");

    public static final ConfigOption<Integer> TILE_PX =
            ConfigOptions.key("tiling.tile-px")
                    .intType()
                    .defaultValue(256)
                    .withDescription(
                            "Edge of a tile in pixels at the target resolution (the field of view"
                                    + " is tile-px * target-mpp micrometres).");

    public static final ConfigOption<Integer> STRIDE_PX =
            ConfigOptions.key("tiling.stride-px")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Distance between neighbouring tiles in pixels at the target"
                                    + " resolution; 0 means equal to tiling.tile-px (no overlap)."
                                    + " Smaller than tile-px gives overlapping tiles.");

    public static final ConfigOption<Double> TISSUE_THRESHOLD =
            ConfigOptions.key("tiling.tissue-threshold")
                    .doubleType()
                    .defaultValue(0.25)
                    .withDescription(
                            "A tile is kept when at least this fraction (0..1) of its area is"
                                    + " tissue in the low-resolution tissue mask.");

    public static final ConfigOption<Integer> MASK_DOWNSAMPLE =
            ConfigOptions.key("tiling.mask-downsample")
                    .intType()
                    .defaultValue(64)
                    .withDescription(
                            "Downsample of the tissue mask relative to level 0. The mask image is"
                                    + " read from the pyramid level nearest to but not above it and"
                                    + " downscaled to exactly this when no level matches.");

    public static final ConfigOption<Integer> MEDIAN_KERNEL =
            ConfigOptions.key("tiling.median-kernel")
                    .intType()
                    .defaultValue(7)
                    .withDescription(
                            "Edge of the median filter applied to the saturation channel of the"
                                    + " mask image (odd; 1 disables it). CLAM's mthresh.");

    public static final ConfigOption<Integer> CLOSE_KERNEL =
            ConfigOptions.key("tiling.close-kernel")
                    .intType()
                    .defaultValue(4)
                    .withDescription(
                            "Edge of the square structuring element of the morphological closing"
                                    + " of the tissue mask (0 disables it). CLAM's close.");

    public static final ConfigOption<Integer> MIN_SATURATION =
            ConfigOptions.key("tiling.min-saturation")
                    .intType()
                    .defaultValue(8)
                    .withDescription(
                            "Lowest saturation threshold (0..255) the mask uses. When Otsu's"
                                    + " threshold is below it (a blank or nearly blank slide, where"
                                    + " Otsu splits noise) this value is used instead. CLAM's"
                                    + " sthresh.");

    public static final ConfigOption<Double> MPP_TOLERANCE =
            ConfigOptions.key("tiling.mpp-tolerance")
                    .doubleType()
                    .defaultValue(0.01)
                    .withDescription(
                            "Relative tolerance when comparing resolutions and downsamples: a"
                                    + " level at 0.505 um/px still counts as 0.5 um/px with 0.01.");

    public static final ConfigOption<Integer> EMIT_CHUNK =
            ConfigOptions.key("tiling.emit-chunk")
                    .intType()
                    .defaultValue(256)
                    .withDescription(
                            "Tile tasks the planner emits at a time. Between chunks it hands the"
                                    + " task thread back, so checkpoint barriers pass while a large"
                                    + " slide is still being emitted; smaller chunks give shorter"
                                    + " checkpoint alignment, larger ones fewer timer firings.");

    public static final ConfigOption<Duration> PLAN_TIMEOUT =
            ConfigOptions.key("tiling.plan-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(2))
                    .withDescription(
                            "How long planning one slide (opening it, reading the tissue mask's"
                                    + " level) may take. A slide that takes longer - a damaged file"
                                    + " or storage that does not answer - fails with TIMEOUT and"
                                    + " the planner goes on with the next slide; the thread stuck"
                                    + " in the read is left behind.");

    public static final ConfigOption<Duration> SCAN_MEMORY =
            ConfigOptions.key("tiling.scan-memory")
                    .durationType()
                    .defaultValue(Duration.ofDays(30))
                    .withDescription(
                            "How long the planner remembers the latest scan (scanned_at) of each"
                                    + " slide. Within it, an event for a scan already planned (a"
                                    + " duplicate, a burst of them, a replay) and an event for an"
                                    + " older scan arriving late are ignored; a newer scan is"
                                    + " planned and supersedes the older one.");

    public static final ConfigOption<Integer> MAX_ACTIVE_SLIDES =
            ConfigOptions.key("tiling.max-active-slides")
                    .intType()
                    .defaultValue(2)
                    .withDescription(
                            "Slides each planner subtask emits tile tasks for at the same time."
                                    + " Further announced slides wait, in arrival order, and are"
                                    + " planned when one of these has handed on its last task, so"
                                    + " a backlog drains in order instead of every slide"
                                    + " progressing side by side (and timing out together). Two"
                                    + " lets small slides pass beside a resection.");

    public static final ConfigOption<Integer> MAX_TILES_IN_FLIGHT =
            ConfigOptions.key("tiling.max-tiles-in-flight")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Tile tasks the whole job lets be in flight between the planners and"
                                    + " the end of the embed stage (queued between the operators,"
                                    + " being read, batched or embedded). A planner emits a task"
                                    + " only with a credit from this budget, and each task that"
                                    + " leaves the embed stage gives its credit back; so a backlog"
                                    + " waits as announcements, never as thousands of queued tile"
                                    + " tasks ahead of a slide's own tiles, and checkpoints stay"
                                    + " small. 0 sizes it from the embed stage: twice"
                                    + " inference.capacity per embed subtask (one capacity being"
                                    + " read and embedded, one queued in front of it).");

    private TilingOptions() {}
}
