package io.slidestream.tiling;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.TileTask;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The tiles of one slide to read and embed: the read geometry, the tissue mask, and the kept tiles
 * (level-0 top-left corner and tissue fraction) in row-major order. Immutable. Tiles are held in
 * primitive arrays (a resection has up to 15,000), and turned into {@link TileTask} records one at
 * a time with {@link #tileTask} or all at once with {@link #toTileTasks}.
 *
 * <p>A slide where no tile reaches the threshold has the outcome {@link Outcome#NO_TISSUE}: a
 * normal result with zero tiles, not an exception. Callers that must fail use {@link
 * #noTissueError()} or {@link #requireTissue()}.
 */
public final class TilePlan {

    /** What planning found. */
    public enum Outcome {
        /** At least one tile reached the tissue threshold. */
        TILED,
        /** No tile reached the tissue threshold (or no tile fits in the slide). */
        NO_TISSUE
    }

    private final TileGeometry geometry;
    private final TissueMask mask;
    private final double tissueThreshold;
    private final long[] xs;
    private final long[] ys;
    private final float[] tissue;
    private final double maxTissueFraction;

    /** Takes ownership of the arrays (equal length, row-major). */
    TilePlan(
            TileGeometry geometry,
            TissueMask mask,
            double tissueThreshold,
            long[] xs,
            long[] ys,
            float[] tissue,
            double maxTissueFraction) {
        if (xs.length != ys.length || xs.length != tissue.length) {
            throw new IllegalArgumentException("tile arrays differ in length");
        }
        this.geometry = Objects.requireNonNull(geometry, "geometry");
        this.mask = Objects.requireNonNull(mask, "mask");
        this.tissueThreshold = tissueThreshold;
        this.xs = xs;
        this.ys = ys;
        this.tissue = tissue;
        this.maxTissueFraction = maxTissueFraction;
    }

    public Outcome outcome() {
        return xs.length == 0 ? Outcome.NO_TISSUE : Outcome.TILED;
    }

    public TileGeometry geometry() {
        return geometry;
    }

    public TissueMask mask() {
        return mask;
    }

    /** The pyramid level tiles are read from. */
    public int readLevel() {
        return geometry.readLevel();
    }

    /** Edge of each read in pixels of the read level. */
    public int readPx() {
        return geometry.readPx();
    }

    /** Edge of each tile at the target resolution. */
    public int tilePx() {
        return geometry.tilePx();
    }

    /** Step between tiles at the target resolution. */
    public int stridePx() {
        return geometry.stridePx();
    }

    /** Target resolution in micrometres per pixel. */
    public double targetMpp() {
        return geometry.targetMpp();
    }

    /** Step between neighbouring tiles in level-0 pixels. */
    public long step0() {
        return geometry.step0();
    }

    /** Edge of each tile in level-0 pixels. */
    public long span0() {
        return geometry.span0();
    }

    public int gridColumns() {
        return geometry.columns();
    }

    public int gridRows() {
        return geometry.rows();
    }

    /** All tiles of the grid (inside the slide), kept or not. */
    public long gridTileCount() {
        return geometry.gridTileCount();
    }

    /** The kept tiles: tissue fraction at or above {@link #tissueThreshold()}. */
    public int tissueTileCount() {
        return xs.length;
    }

    public double tissueThreshold() {
        return tissueThreshold;
    }

    /** The highest tissue fraction of any grid tile (0 when the grid is empty). */
    public double maxTissueFraction() {
        return maxTissueFraction;
    }

    /** True when the slide is coarser than the target and tiles are upsampled. */
    public boolean upsampled() {
        return geometry.upsampled();
    }

    /**
     * Below this median brightness of the mask image (0..255) the slide is taken for a dark-field
     * or fluorescence scan. Brightfield glass is about 230 and up; a slide densely covered with
     * H&amp;E tissue stays well above 150.
     */
    static final int DARK_BACKGROUND_BRIGHTNESS = 100;

    /**
     * Things a user should know about the plan: upsampling, and a dark (fluorescence or dark-field)
     * slide, for which the brightfield tissue detector is not made; empty when none.
     */
    public List<String> warnings() {
        List<String> warnings = new ArrayList<>(2);
        if (geometry.upsampled()) {
            warnings.add(upsampledWarning());
        }
        int brightness = mask.medianBrightness();
        if (brightness < DARK_BACKGROUND_BRIGHTNESS) {
            // CLAM's saturation + Otsu detector (the GPFM contract) is made for brightfield stains
            // on bright glass: near-black background with a little channel noise is highly
            // saturated, so it is called tissue. We keep the detector CLAM-identical and say so.
            warnings.add(
                    String.format(
                            "the slide is dark (median brightness %d of 255 in the %dx%d mask"
                                    + " image): it looks like a fluorescence or dark-field scan."
                                    + " Tissue detection (HSV saturation + Otsu, as CLAM) is made"
                                    + " for brightfield stains and takes dark background for"
                                    + " tissue, so background tiles are likely kept (%d of %d grid"
                                    + " tiles); GPFM is trained on brightfield H&E",
                            brightness,
                            mask.width(),
                            mask.height(),
                            xs.length,
                            geometry.gridTileCount()));
        }
        return List.copyOf(warnings);
    }

    private String upsampledWarning() {
        return String.format(
                "slide resolution %.4f um/px is coarser than the target %.4f um/px: tiles"
                        + " are read as %d px at level %d and upsampled to %d px",
                geometry.readLevelMpp(),
                geometry.targetMpp(),
                geometry.readPx(),
                geometry.readLevel(),
                geometry.tilePx());
    }

    /** Level-0 x of kept tile {@code i}. */
    public long tileX(int i) {
        return xs[i];
    }

    /** Level-0 y of kept tile {@code i}. */
    public long tileY(int i) {
        return ys[i];
    }

    /** Tissue fraction (0..1) of kept tile {@code i}. */
    public float tileTissue(int i) {
        return tissue[i];
    }

    /** Copies of the kept tiles' level-0 x values. */
    public long[] tileXs() {
        return Arrays.copyOf(xs, xs.length);
    }

    /** Copies of the kept tiles' level-0 y values. */
    public long[] tileYs() {
        return Arrays.copyOf(ys, ys.length);
    }

    /** Copies of the kept tiles' tissue fractions. */
    public float[] tileTissues() {
        return Arrays.copyOf(tissue, tissue.length);
    }

    /** The task for kept tile {@code index}. */
    public TileTask tileTask(int index, String slideId, String uri, long scannedAtMillis) {
        Objects.checkIndex(index, xs.length);
        TileTask t = new TileTask();
        t.slideId = slideId;
        t.uri = uri;
        t.x = xs[index];
        t.y = ys[index];
        t.level = geometry.readLevel();
        t.readPx = geometry.readPx();
        t.extentPx = geometry.span0();
        t.tilePx = geometry.tilePx();
        t.mpp = geometry.targetMpp();
        t.tissue = tissue[index];
        t.tileIndex = index;
        t.tileCount = xs.length;
        t.scannedAtMillis = scannedAtMillis;
        return t;
    }

    /** Tasks for all kept tiles, in plan order (empty for {@link Outcome#NO_TISSUE}). */
    public List<TileTask> toTileTasks(String slideId, String uri, Instant scannedAt) {
        Objects.requireNonNull(slideId, "slideId");
        Objects.requireNonNull(uri, "uri");
        long millis = scannedAt.toEpochMilli();
        List<TileTask> tasks = new ArrayList<>(xs.length);
        for (int i = 0; i < xs.length; i++) {
            tasks.add(tileTask(i, slideId, uri, millis));
        }
        return tasks;
    }

    /**
     * The {@code NO_TISSUE} failure for callers that treat an empty plan as one.
     *
     * @throws IllegalStateException when the plan has tiles
     */
    public SlideStreamException noTissueError() {
        if (outcome() != Outcome.NO_TISSUE) {
            throw new IllegalStateException("plan has " + xs.length + " tissue tiles");
        }
        String message;
        if (geometry.gridTileCount() == 0) {
            message =
                    String.format(
                            "the slide (%dx%d px at level 0) is smaller than one tile (%d px at"
                                    + " level 0 for %d px at %.4f um/px); lower tiling.tile-px",
                            geometry.level0Width(),
                            geometry.level0Height(),
                            geometry.span0(),
                            geometry.tilePx(),
                            geometry.targetMpp());
        } else {
            message =
                    String.format(
                            "no tile of %d reaches the tissue threshold %.3f (highest tissue"
                                    + " fraction %.3f; mask saturation threshold %d, %d tissue"
                                    + " pixels in a %dx%d mask); check that the slide holds"
                                    + " stained tissue, or lower tiling.tissue-threshold",
                            geometry.gridTileCount(),
                            tissueThreshold,
                            maxTissueFraction,
                            mask.saturationThreshold(),
                            mask.tissuePixelCount(),
                            mask.width(),
                            mask.height());
        }
        return new SlideStreamException(ErrorCode.NO_TISSUE, message);
    }

    /**
     * This plan when it has tiles.
     *
     * @throws SlideStreamException {@code NO_TISSUE} otherwise
     */
    public TilePlan requireTissue() {
        if (outcome() == Outcome.NO_TISSUE) {
            throw noTissueError();
        }
        return this;
    }

    @Override
    public String toString() {
        return String.format(
                "TilePlan{%s, %d of %d tiles, %s}",
                outcome(), xs.length, geometry.gridTileCount(), geometry);
    }
}
